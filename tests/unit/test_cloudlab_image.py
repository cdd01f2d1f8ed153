"""The lab's boot image: one boot sector that writes a line to COM1, on a 1 MiB raw disk."""

from __future__ import annotations

import pytest

from oci.cloudlab import image


def test_a_boot_sector_ends_with_the_signature_and_carries_the_line():
    sector = image.boot_sector()
    assert len(sector) == 512
    assert sector[510:] == b"\x55\xaa"
    assert image.BOOT_LINE.encode() + b"\r\n\0" in sector
    # mov si, MESSAGE points at the line where the BIOS loads the sector
    address = int.from_bytes(sector[6:8], "little")
    assert sector[address - image.LOAD_ADDRESS :].startswith(image.BOOT_LINE.encode())


def test_the_disk_is_one_mebibyte_starting_with_the_sector():
    disk = image.disk()
    assert len(disk) == image.SIZE
    assert disk[:512] == image.boot_sector() and not any(disk[512:])


def test_a_line_too_long_for_a_sector_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        image.boot_sector("x" * 500)
