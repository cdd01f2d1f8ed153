"""``lsblk`` output -> the report's ``disks``: whole disks only (no partitions, optical drives, loops)."""

from __future__ import annotations

import json
import re
from typing import Any

_UNITS = {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_TRANSPORTS = ("sata", "sas", "nvme", "usb", "fc", "iscsi", "ata", "spi", "mmc", "virtio")


def size_bytes(value: Any) -> int | None:
    """lsblk sizes: a number of bytes (``-b``), a digit string, or a human size such as ``125.9G``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*([0-9.]+)\s*([BKMGTP]?)\s*", str(value or ""))
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2) or "B"])


def _rotational(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("1", 1):
        return True
    if value in ("0", 0):
        return False
    return None


def from_json(text: str) -> list[dict[str, Any]]:
    """``lsblk -J`` (any columns; ``-b`` preferred)."""
    disks = []
    for dev in json.loads(text).get("blockdevices", []):
        if dev.get("type", "disk") != "disk":
            continue
        disks.append(
            {
                "name": dev.get("name"),
                "size_bytes": size_bytes(dev.get("size")),
                "model": dev.get("model"),
                "serial": dev.get("serial"),
                "transport": dev.get("tran"),
                "rotational": _rotational(dev.get("rota")),
            }
        )
    return disks


def from_text(text: str) -> list[dict[str, Any]]:
    """Plain ``lsblk`` (NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINT); child rows start with tree characters."""
    lines = text.splitlines()
    if not lines:
        return []
    header = lines[0].split()
    disks = []
    for line in lines[1:]:
        if not line or not line[0].isalnum():
            continue  # a partition or holder row (tree drawing) or a blank line
        fields = dict(zip(header, line.split(), strict=False))  # MOUNTPOINT may be empty
        if fields.get("TYPE") != "disk":
            continue
        transport = fields.get("TRAN")
        disks.append(
            {
                "name": fields.get("NAME"),
                "size_bytes": size_bytes(fields.get("SIZE")),
                "transport": transport if transport in _TRANSPORTS else None,
            }
        )
    return disks
