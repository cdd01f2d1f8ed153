"""oci-install onto an 8 GiB sparse file on a loop device (BIOS mode, the plan's packages), through
apt-cacher-ng: warm (the tests' cache, /var/cache/oci-tests/apt-cacher-ng, filled by an earlier run) or, with
``--cold``, an empty cache of its own, so every package comes from deb.debian.org. Prints the time of each
step and of the whole install, the packages installed and the bytes written to the disk. Needs root.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "lib"), str(REPO / "tests")]

import pkgcache  # noqa: E402
from oci.install import bundle, main  # noqa: E402
from oci.install.layout import DiskLayout  # noqa: E402
from oci.install.plan import BootMode, InstallPlan, NetworkNeeds, packages_for  # noqa: E402


class Timings:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.failure: str | None = None

    def started(self, step: str) -> None:
        pass

    def ended(self, step: str, seconds: float) -> None:
        self.seconds[step] = seconds

    def failed(self, step: str, error: str) -> None:
        self.failure = f"{step}: {error}"

    def finished(self) -> None:
        pass


def sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def sectors_written(disk: str) -> int:
    return int(Path(f"/sys/block/{disk}/stat").read_text().split()[6])


def main_bench() -> int:
    cold = "--cold" in sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="oci-bench-install-") as tmp:
        work = Path(tmp)
        image = work / "disk.img"
        with image.open("wb") as f:
            f.truncate(8 << 30)
        device = sh("losetup", "--show", "-f", str(image)).strip()
        disk = Path(device).name
        try:
            with pkgcache.running(work, work / "cache" if cold else pkgcache.CACHE_DIR) as port:
                layout = DiskLayout((disk,))
                plan = InstallPlan("BENCH", "bench-1.example.com", "bench", "compute", BootMode.BIOS, layout, "bookworm",
                                   pkgcache.mirror(port), pkgcache.security_mirror(port),
                                   packages_for(BootMode.BIOS, False, layout, NetworkNeeds()),
                                   "http://127.0.0.1:1/api/v1/status", reboot=False)  # fmt: skip
                files = {"etc/hosts": bundle.BundleFile(b"127.0.0.1 localhost\n")}
                timings = Timings()
                before = sectors_written(disk)
                started = time.monotonic()
                code = main.install(bundle.pack(plan, files), reporter=timings, mount_base=work / "mnt", reboot=False, templates_dir=None)
                elapsed = time.monotonic() - started
                written = (sectors_written(disk) - before) * 512
            if code != 0:
                print(f"install failed at {timings.failure}")
                return 1
            root = work / "check"
            root.mkdir()
            sh("mount", "-o", "ro", f"/dev/{disk}p3", str(root))
            try:
                status = (root / "var/lib/dpkg/status").read_text()
                installed = status.count("Status: install ok installed")
                used = int(sh("df", "--output=used", "-B1", str(root)).split()[1])
            finally:
                sh("umount", str(root))
        finally:
            subprocess.run(["partx", "--delete", device], check=False, capture_output=True)
            sh("losetup", "-d", device)
    steps = ", ".join(f"{name} {seconds:.1f}" for name, seconds in timings.seconds.items())
    print(f"install_loop ({'cold' if cold else 'warm'} cache): {elapsed:.0f} s; {installed} packages, "
          f"{used / 1e6:.0f} MB on the root, {written / 1e6:.0f} MB written to the disk")  # fmt: skip
    print(f"  steps (s): {steps}")
    return 0


if __name__ == "__main__":
    sys.exit(main_bench())
