"""machine-wipe for real: the rendered script erases a loop device holding a file system (its signature gone, its
first and last 100 MiB zeros), and reaches a live node over SSH (a real sshd on loopback holding a live-CA host
certificate, whose forced command records the command and the script it is given instead of running it)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import sshnode
from oci import templates
from oci.model import Machine
from oci.service import wipe

MIB = 1 << 20
SIZE_MIB = 300


def sh(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout


@pytest.fixture
def loop_disk(tmp_path: Path) -> Iterator[str]:
    """A loop device over a 300 MiB file filled with 0xA5 and holding an ext4 file system."""
    image = tmp_path / "disk.img"
    image.write_bytes(b"\xa5" * (SIZE_MIB * MIB))
    device = sh("losetup", "--show", "-f", str(image)).strip()
    try:
        sh("mkfs.ext4", "-q", "-F", device)
        yield device
    finally:
        subprocess.run(["losetup", "-d", device], check=True)


def test_the_script_erases_a_disk(loop_disk):
    assert "ext4" in sh("blkid", "-p", loop_disk)
    text = wipe.script("C1", [{"path": loop_disk, "bytes": SIZE_MIB * MIB, "mib": SIZE_MIB}], templates.load(None))
    done = subprocess.run(["sh", "-s"], input=text, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "wiped 1 disk(s)"
    assert subprocess.run(["blkid", "-p", loop_disk], capture_output=True).returncode != 0  # no signature left
    with open(loop_disk, "rb") as disk:
        head = disk.read(wipe.EDGE_MIB * MIB)
        disk.seek((SIZE_MIB - wipe.EDGE_MIB) * MIB)
        tail = disk.read()
    assert head.count(0) == len(head) and tail.count(0) == len(tail) == wipe.EDGE_MIB * MIB


RECORDER = """#!/bin/sh
# Forced command of the test sshd: record the command and the script on its standard input, instead of wiping.
echo "$SSH_ORIGINAL_COMMAND" >> {log}
cat > {log}.stdin
echo "wiped 1 disk(s)"
"""


def test_the_script_goes_to_the_live_node_over_ssh(store, discover, tmp_path):
    discover("C0", address="127.0.0.1")
    with sshnode.recording_live_node(store, tmp_path, "C0", RECORDER) as (site, commands, _):
        done = wipe.wipe(site, "C0", confirm=True)
    assert done == {"serial": "C0", "output": ["wiped 1 disk(s)"]}
    assert commands.read_text().splitlines() == ["sh -s"]
    erased = wipe.disks(site.get(Machine, "C0"))
    assert Path(f"{commands}.stdin").read_text() == wipe.script("C0", erased, templates.load(None))
