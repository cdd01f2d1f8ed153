"""Hardware report, schema version 1 (docs/report-schema.md): JSON body -> serial + ``Hardware``.

Validation is per entry. The serial and the document's shape are required; a disk, NIC or controller entry
that is unusable (no name, zero size, bad MAC) is skipped and recorded in ``notes``, and a placeholder text
("null", "Not Specified", "To Be Filled By O.E.M.") becomes "unknown" (None). Real machines send odd but
honest data, and one odd entry must not lose the rest of the report (the reference rejects the whole
report on any "suspicious line").
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from oci import names, values
from oci.errors import InvalidInput
from oci.model import Bmc, Cpu, Disk, Hardware, Memory, Nic, RaidDrive, StorageController

SCHEMA_VERSION = 1
# Bounds of a report, so that what one report makes the server store stays small whatever it holds
# (docs/report-schema.md, "Limits"): every text is cut, every list is bounded, and so are the notes.
MAX_ENTRIES = 512  # per list; a machine with more disks or NICs than this is not a server we know
MAX_TEXT = 128
MAX_AGENT_ERRORS = 20
MAX_UNKNOWN_KEYS = 10
MAX_NOTES = 50  # the last one says how many more there were

PLACEHOLDERS = frozenset(
    {
        "",
        "null",
        "none",
        "n/a",
        "na",
        "unknown",
        "not specified",
        "not available",
        "not present",
        "not reported",
        "to be filled by o.e.m.",
        "to be filled by oem",
        "default string",
        "system product name",
        "system manufacturer",
        "0123456789",
        "detect failed",
    }
)
_DEVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
# Removed from report text: C0 and C1 controls (U+009B is an 8-bit CSI, which terminals obey), line and
# paragraph separators, bidirectional and zero-width format characters (they reorder or hide what an
# operator reads) and unpaired surrogates (not text: they cannot be written as UTF-8).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]")
_SLOT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}")

T = TypeVar("T")


SERIAL_SOURCES = ("system", "chassis", "baseboard", "mac", "assigned")


@dataclass(frozen=True)
class ParsedReport:
    serial: str
    hardware: Hardware
    notes: tuple[str, ...]  # what was skipped or could not be understood, for the operator
    serial_source: str | None = None  # where the serial came from; "mac" is the fallback without DMI tables


def _shown(value: Any) -> str:
    """A raw value in a note: escaped (``ascii``: no control or format character reaches a terminal) and
    short, so a hostile value cannot make a note longer than a line."""
    try:
        shown = ascii(value)
    except (ValueError, RecursionError):  # an int with more digits than str() converts; a deep nest
        shown = f"<{type(value).__name__}>"
    return shown if len(shown) <= 40 else shown[:37] + "..."


class _Skip(Exception):
    """This entry is unusable; the message says why."""


def text(value: Any) -> str | None:
    """Free text, or None for an absent or placeholder value."""
    if type(value) is str:
        shown = value
    elif type(value) in (int, float) and abs(value) < 1e18:  # str() of a huge int is refused (and no text)
        shown = str(value)
    else:
        return None
    cleaned = _CONTROL.sub("", shown[: MAX_TEXT * 4]).strip()
    if cleaned.lower() in PLACEHOLDERS:
        return None
    return cleaned[:MAX_TEXT]


def integer(value: Any, minimum: int = 0) -> int | None:
    """A count or a size: an int, an integral float, or ASCII digits (``values.integer``); None otherwise."""
    if type(value) is str:
        value = values.integer(value.strip())
    elif type(value) is float and value.is_integer():  # is_integer() is False for NaN and infinities
        value = int(value)
    if type(value) is not int or value < minimum or value > 2**63:
        return None
    return value


def number(value: Any) -> float | None:
    if type(value) is str:
        result = values.number(value.strip())
    elif type(value) in (int, float):
        result = values.finite(value)
    else:
        return None
    return result if result is not None and 0 <= result < 1e12 else None


def flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("yes", "true", "1"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("no", "false", "0"):
        return False
    return None


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"report: '{where}' must be an object, got {type(value).__name__}")
    return value


def _entries(body: dict[str, Any], key: str, build: Callable[[dict[str, Any]], T], notes: list[str]) -> tuple[T, ...]:
    items = body.get(key)
    if items is None:
        return ()
    if not isinstance(items, list):
        raise InvalidInput(f"report: '{key}' must be a list, got {type(items).__name__}")
    if len(items) > MAX_ENTRIES:
        raise InvalidInput(f"report: '{key}' has {len(items)} entries, more than {MAX_ENTRIES}")
    out = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise _Skip("not an object")
            out.append(build(item))
        except _Skip as why:
            label = item.get("name") or item.get("slot") or item.get("id") if isinstance(item, dict) else None
            shown = f" {text(label)!s}" if text(label) else ""
            notes.append(f"{key}[{index}]{shown} skipped: {why}")
    return tuple(out)


def _device_name(value: Any, what: str) -> str:
    name = text(value)
    if name is None or not _DEVICE.fullmatch(name):
        raise _Skip(f"invalid {what} name {_shown(value)}")
    return name


def _disk(item: dict[str, Any]) -> Disk:
    name = _device_name(item.get("name"), "disk")
    size = integer(item.get("size_bytes"))
    if size is None:
        raise _Skip(f"invalid size {_shown(item.get('size_bytes'))}")
    if size == 0:
        raise _Skip("size 0 (an empty zram, loop or card-reader device)")
    realdev = item.get("realdev")
    return Disk(
        name=name,
        size_bytes=size,
        realdev=_device_name(realdev, "device") if text(realdev) else None,
        model=text(item.get("model")),
        serial=text(item.get("serial")),
        transport=text(item.get("transport")),
        rotational=flag(item.get("rotational")),
    )


def _nic(item: dict[str, Any]) -> Nic:
    name = text(item.get("name"))
    try:
        names.interface(name)
    except InvalidInput:
        raise _Skip(f"invalid interface name {_shown(item.get('name'))}") from None
    assert name is not None
    mac = (text(item.get("mac")) or "").lower().replace("-", ":")
    if not _MAC.fullmatch(mac):
        raise _Skip(f"invalid MAC address {_shown(item.get('mac'))}")
    return Nic(
        name=name,
        mac=mac,
        speed_mbps=integer(item.get("speed_mbps"), minimum=1),
        driver=text(item.get("driver")),
        firmware=text(item.get("firmware")),
        switch_name=text(item.get("switch_name")),
        switch_port=text(item.get("switch_port")),
    )


def _controller(item: dict[str, Any]) -> StorageController:
    ident = text(item.get("id"))
    if ident is None:
        raise _Skip("no id")
    return StorageController(
        id=ident,
        vendor=text(item.get("vendor")),
        product=text(item.get("product")),
        kind=text(item.get("kind")),
        firmware=text(item.get("firmware")),
    )


def _raid_drive(item: dict[str, Any]) -> RaidDrive:
    slot = text(item.get("slot"))
    if slot is None or not _SLOT.fullmatch(slot):
        raise _Skip(f"invalid slot {_shown(item.get('slot'))}")
    size = integer(item.get("size_bytes"))
    if not size:
        raise _Skip(f"invalid size {_shown(item.get('size_bytes'))}")
    return RaidDrive(
        slot=slot, size_bytes=size, model=text(item.get("model")), serial=text(item.get("serial")), state=text(item.get("state"))
    )


def _address(value: Any, notes: list[str], where: str) -> ipaddress.IPv4Address | None:
    shown = text(value)
    if shown is None or shown == "0.0.0.0":  # noqa: S104 (an unset BMC address, not a bind)
        return None
    try:
        return ipaddress.IPv4Address(shown)
    except ValueError:
        notes.append(f"{where} ignored: {_shown(shown)} is not an IPv4 address")
        return None


def _bmc(bmc: dict[str, Any], notes: list[str]) -> Bmc | None:
    found = Bmc(address=_address(bmc.get("address"), notes, "bmc.address"), firmware=text(bmc.get("firmware")), mac=text(bmc.get("mac")))
    return None if found == Bmc() else found


def _unique(items: tuple[T, ...], key: Callable[[T], str], what: str, notes: list[str]) -> tuple[T, ...]:
    seen: set[str] = set()
    out = []
    for item in items:
        k = key(item)
        if k in seen:
            notes.append(f"{what} {k} skipped: reported twice")
            continue
        seen.add(k)
        out.append(item)
    return tuple(out)


def parse(body: Any) -> ParsedReport:
    """A decoded JSON body -> ParsedReport, or ``InvalidInput`` naming what is wrong with it."""
    if not isinstance(body, dict):
        raise InvalidInput(f"report: expected a JSON object, got {type(body).__name__}")
    version = body.get("version")
    if version != SCHEMA_VERSION:
        raise InvalidInput(f"report: unsupported schema version {_shown(version)}", hint=f"this server reads version {SCHEMA_VERSION}")
    serial = body.get("serial")
    if serial is None:
        raise InvalidInput("report: 'serial' is missing")
    names.serial(serial)
    notes: list[str] = []
    source = body.get("serial_source")
    if source is not None and source not in SERIAL_SOURCES:
        notes.append(f"serial_source {_shown(text(source))} ignored: not one of {', '.join(SERIAL_SOURCES)}")
        source = None
    known = {
        "version",
        "serial",
        "serial_source",
        "agent",
        "system",
        "cpu",
        "memory",
        "disks",
        "nics",
        "storage_controllers",
        "raid_drives",
        "bmc",
        "errors",
    }
    unknown = sorted(set(body) - known)
    notes += [f"unknown key {_shown(key)} ignored" for key in unknown[:MAX_UNKNOWN_KEYS]]
    if len(unknown) > MAX_UNKNOWN_KEYS:
        notes.append(f"{len(unknown) - MAX_UNKNOWN_KEYS} more unknown keys ignored")
    system = _mapping(body.get("system"), "system")
    cpu = _mapping(body.get("cpu"), "cpu")
    memory = _mapping(body.get("memory"), "memory")
    bmc = _mapping(body.get("bmc"), "bmc")
    errors = body.get("errors") or []
    if not isinstance(errors, list):
        raise InvalidInput("report: 'errors' must be a list of strings")
    for error in errors[:MAX_AGENT_ERRORS]:
        message = text(error)
        if message:
            notes.append(f"agent: {message}")
    if len(errors) > MAX_AGENT_ERRORS:
        notes.append(f"agent: {len(errors) - MAX_AGENT_ERRORS} more errors")

    total_mb = integer(memory.get("total_mb"))
    hardware = Hardware(
        manufacturer=text(system.get("manufacturer")),
        product_name=text(system.get("product_name")),
        bios_version=text(system.get("bios_version")),
        lifecycle_version=text(system.get("lifecycle_version")),
        uefi=flag(system.get("uefi")),
        secure_boot=flag(system.get("secure_boot")),
        uses_sorted_disk_names=flag(system.get("sorted_disk_names")) or False,
        cpu=Cpu(
            vendor=text(cpu.get("vendor")),
            model=text(cpu.get("model")),
            sockets=integer(cpu.get("sockets"), minimum=1),
            cores_per_socket=integer(cpu.get("cores_per_socket"), minimum=1),
            threads=integer(cpu.get("threads"), minimum=1),
            mhz=number(cpu.get("mhz")),
        )
        if cpu
        else None,
        memory=Memory(
            total_mb=total_mb,
            dimm_type=text(memory.get("dimm_type")),
            speed=text(memory.get("speed")),
            manufacturer=text(memory.get("manufacturer")),
        )
        if total_mb
        else None,
        disks=_unique(_entries(body, "disks", _disk, notes), lambda d: d.name, "disk", notes),
        nics=_unique(_entries(body, "nics", _nic, notes), lambda n: n.name, "NIC", notes),
        storage_controllers=_unique(_entries(body, "storage_controllers", _controller, notes), lambda c: c.id, "controller", notes),
        raid_drives=_unique(_entries(body, "raid_drives", _raid_drive, notes), lambda r: r.slot, "RAID drive", notes),
        bmc=_bmc(bmc, notes),
    )
    if memory and not total_mb:
        notes.append(f"memory.total_mb ignored: {_shown(memory.get('total_mb'))} is not a positive integer")
    if len(notes) > MAX_NOTES:  # each note is short; their number is bounded too, as the agent's errors are
        notes[MAX_NOTES - 1 :] = [f"{len(notes) - MAX_NOTES + 1} more notes"]
    return ParsedReport(serial=serial, hardware=hardware, notes=tuple(notes), serial_source=source)
