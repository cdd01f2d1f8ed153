"""``lsblk`` output -> the report's ``disks``: whole disks only (no partitions, optical drives, loops, floppy
drives)."""

from __future__ import annotations

import json
import re
from typing import Any

_UNITS = {"B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
# lsblk types a floppy drive "disk" (qemu's default pc machine has one): never an install target nor a data disk.
_FLOPPY = re.compile(r"fd[0-9]+")
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
        if dev.get("type", "disk") != "disk" or _FLOPPY.fullmatch(str(dev.get("name"))):
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


# lsblk right-aligns these columns, and left-aligns the others.
_RIGHT_ALIGNED = frozenset({"SIZE", "MAJ:MIN", "RM", "RO", "ROTA", "RA", "ALIGNMENT", "MIN-IO", "OPT-IO", "PHY-SEC", "LOG-SEC"})


def _columns(header: str) -> list[tuple[str, int, int]]:
    """(name, start, end) of each header field."""
    return [(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", header)]


def _cell(line: str, columns: list[tuple[str, int, int]], index: int) -> str:
    """A column's value, by position: values such as a MODEL may contain spaces."""
    name, start, end = columns[index]
    if name in _RIGHT_ALIGNED:  # numbers and sizes: never empty, never with spaces
        before = line[:end].split()
        return before[-1] if before else ""
    right = columns[index + 1][1] if index + 1 < len(columns) else len(line)
    if index + 1 < len(columns) and columns[index + 1][0] in _RIGHT_ALIGNED:
        return line[start:right].split(" ", 1)[0].strip() if line[start:right].strip() else ""
    return line[start:right].strip()


def from_text(text: str) -> list[dict[str, Any]]:
    """Plain ``lsblk`` (any columns, e.g. NAME SIZE TYPE MOUNTPOINT MODEL SERIAL); child rows start with tree
    characters and are skipped."""
    lines = text.splitlines()
    if not lines:
        return []
    columns = _columns(lines[0])
    index = {name: i for i, (name, _, _) in enumerate(columns)}
    disks = []
    for line in lines[1:]:
        if not line or not line[0].isalnum():
            continue  # a partition or holder row (tree drawing) or a blank line
        values = {name: _cell(line, columns, i) for name, i in index.items()}
        values["NAME"] = line.split()[0]
        if values.get("TYPE") != "disk" or _FLOPPY.fullmatch(values["NAME"]):
            continue
        transport = values.get("TRAN") or None
        disks.append(
            {
                "name": values["NAME"],
                "size_bytes": size_bytes(values.get("SIZE")),
                "model": values.get("MODEL") or None,
                "serial": values.get("SERIAL") or None,
                "transport": transport if transport in _TRANSPORTS else None,
                "rotational": _rotational(values.get("ROTA")),
            }
        )
    return disks
