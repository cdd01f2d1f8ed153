"""``dmidecode`` text output -> records -> system facts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from oci.report.v1 import text as clean

_HEADER = re.compile(r"Handle 0x[0-9A-Fa-f]+, DMI type (\d+), \d+ bytes")
_SIZE = re.compile(r"(\d+)\s*(kB|KB|MB|GB|TB)")
_SIZE_MB = {"kB": 1 / 1024, "KB": 1 / 1024, "MB": 1, "GB": 1024, "TB": 1024 * 1024}
# Serial number source per manufacturer (reference §3.3, point 5): chassis serial for Lenovo,
# baseboard serial for Supermicro, system serial for the big vendors and virtual machines.
_SYSTEM_SERIAL_VENDORS = ("hpe", "hp", "dell", "acer", "linuxkvm", "openstack", "gigabyte", "qemu", "microsoft")


@dataclass
class Record:
    type: int
    name: str
    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)


def parse(text: str) -> list[Record]:
    records: list[Record] = []
    current: Record | None = None
    last_key: str | None = None
    expect_name = False
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            current = Record(int(header.group(1)), "")
            records.append(current)
            expect_name, last_key = True, None
            continue
        if current is None or not line.strip():
            continue
        if expect_name:
            current.name = line.strip()
            expect_name = False
        elif line.startswith("\t\t"):
            if last_key is not None:
                current.lists.setdefault(last_key, []).append(line.strip())
        elif line.startswith("\t") and ":" in line:
            key, _, value = line.strip().partition(":")
            current.values[key.strip()] = value.strip()
            last_key = key.strip()
    return records


def _first(records: list[Record], dmi_type: int) -> dict[str, str]:
    return next((r.values for r in records if r.type == dmi_type), {})


def _serial(value: str | None) -> str | None:
    value = clean(value)
    if value is None or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", value):
        return None
    return value


def memory_mb(size: str) -> int:
    match = _SIZE.search(size)
    return int(int(match.group(1)) * _SIZE_MB[match.group(2)]) if match else 0


def facts(text: str) -> dict[str, Any]:
    """The report's ``system``, ``cpu`` and ``memory`` parts and the chassis serial, from dmidecode output."""
    records = parse(text)
    system, board, chassis, bios = (_first(records, t) for t in (1, 2, 3, 0))
    # Whitebox boards leave the system record to the integrator ("To Be Filled By O.E.M."): the base board
    # record then names the maker.
    manufacturer = clean(system.get("Manufacturer")) or clean(board.get("Manufacturer"))
    vendor = (manufacturer or "").lower()
    if vendor.startswith("lenovo"):
        serial, source = _serial(chassis.get("Serial Number")), "chassis"
    elif vendor.startswith("supermicro"):
        serial, source = _serial(board.get("Serial Number")), "baseboard"
    elif vendor.startswith(_SYSTEM_SERIAL_VENDORS):
        serial, source = _serial(system.get("Serial Number")), "system"
    else:
        serial, source = _serial(board.get("Serial Number")), "baseboard"
        if serial is None:
            serial, source = _serial(system.get("Serial Number")), "system"

    sockets = [r.values for r in records if r.type == 4 and "Populated" in r.values.get("Status", "Populated")]
    first_cpu = sockets[0] if sockets else {}
    threads = sum(int(s["Thread Count"]) for s in sockets if s.get("Thread Count", "").isdigit())
    speed = re.match(r"(\d+)", first_cpu.get("Current Speed", ""))
    model = clean(" ".join(first_cpu.get("Version", "").split()))

    dimms = [r.values for r in records if r.type == 17 and memory_mb(r.values.get("Size", ""))]
    total = sum(memory_mb(d["Size"]) for d in dimms)
    first_dimm = dimms[0] if dimms else {}
    return {
        "serial": serial,
        "serial_source": source if serial else None,
        "system": {
            "manufacturer": manufacturer,
            "product_name": clean((system.get("Product Name") or "").replace(",", "")) or clean(board.get("Product Name")),
            "bios_version": clean(bios.get("Version")),
        },
        "cpu": {
            "vendor": clean(first_cpu.get("Manufacturer")),
            "model": model,
            "sockets": len(sockets) or None,
            "cores_per_socket": int(first_cpu["Core Count"]) if first_cpu.get("Core Count", "").isdigit() else None,
            "threads": threads or None,
            "mhz": int(speed.group(1)) if speed else None,
        }
        if sockets
        else None,
        "memory": {
            "total_mb": total,
            "dimm_type": clean(first_dimm.get("Type")),
            "speed": clean(first_dimm.get("Speed")),
            "manufacturer": clean(first_dimm.get("Manufacturer")),
        }
        if total
        else None,
    }
