"""The image the cloud lab boots a server from: a 1 MiB raw disk whose boot sector writes one line to the
first serial port and halts. Nested emulation (a guest under TCG inside a node that runs under no KVM) makes a
real operating system take many minutes to boot; this one shows in ``openstack console log show`` at once
that the server ran code from its Glance image.

The 16-bit code, at 0x7c00 where the BIOS loads it:

    cli
    xor ax, ax
    mov ds, ax
    mov si, MESSAGE
    mov dx, 0x3f8      ; COM1's data register
  next:
    lodsb
    test al, al
    jz halt
    out dx, al
    jmp next
  halt:
    hlt
    jmp halt
  MESSAGE: the line, CR LF, NUL
"""

from __future__ import annotations

LOAD_ADDRESS = 0x7C00
SIZE = 1 << 20
BOOT_LINE = "OCI cloud lab: booted from the Glance image"
_CODE_BEFORE_MESSAGE = 22  # bytes of the code above, the message follows


def boot_sector(line: str = BOOT_LINE) -> bytes:
    """The 512 bytes: the code, the message, zeros, and the boot signature."""
    message = line.encode("ascii") + b"\r\n\0"
    address = LOAD_ADDRESS + _CODE_BEFORE_MESSAGE
    code = bytes(
        [
            0xFA,  # cli
            0x31, 0xC0,  # xor ax, ax
            0x8E, 0xD8,  # mov ds, ax
            0xBE, address & 0xFF, address >> 8,  # mov si, MESSAGE
            0xBA, 0xF8, 0x03,  # mov dx, 0x3f8
            0xAC,  # next: lodsb
            0x84, 0xC0,  # test al, al
            0x74, 0x03,  # jz halt
            0xEE,  # out dx, al
            0xEB, 0xF8,  # jmp next
            0xF4,  # halt: hlt
            0xEB, 0xFD,  # jmp halt
        ]
    )  # fmt: skip
    assert len(code) == _CODE_BEFORE_MESSAGE
    sector = code + message
    if len(sector) > 510:
        raise ValueError("the boot line does not fit in a boot sector")
    return sector + bytes(510 - len(sector)) + b"\x55\xaa"


def disk(line: str = BOOT_LINE) -> bytes:
    """The raw disk image Glance stores: the boot sector, then zeros up to 1 MiB."""
    sector = boot_sector(line)
    return sector + bytes(SIZE - len(sector))
