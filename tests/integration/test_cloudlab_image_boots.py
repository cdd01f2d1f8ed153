"""The lab's boot image boots in a real qemu (TCG, as on these machines): the line reaches the serial port."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from oci.cloudlab import image

GUARD = 300.0  # seconds: a guard against a qemu that never boots, never a figure


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="qemu-system-x86 is not installed: run make deps")
def test_the_image_writes_its_line_on_the_serial_port(tmp_path: Path):
    disk, serial = tmp_path / "disk.img", tmp_path / "serial.log"
    disk.write_bytes(image.disk())
    argv = ["qemu-system-x86_64", "-machine", "accel=tcg", "-m", "64", "-display", "none", "-monitor", "none",
            "-drive", f"file={disk},format=raw", "-serial", f"file:{serial}", "-net", "none"]  # fmt: skip
    qemu = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        give_up = time.monotonic() + GUARD
        while image.BOOT_LINE not in (serial.read_text(errors="replace") if serial.exists() else ""):
            assert qemu.poll() is None, qemu.stderr.read() if qemu.stderr else ""
            assert time.monotonic() < give_up, "the image did not write its line"
            time.sleep(0.2)  # the guest writes when it boots: look again
    finally:
        qemu.kill()
        qemu.wait()
