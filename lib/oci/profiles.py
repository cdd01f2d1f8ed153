"""Hardware profiles (pure: docs/profiles.md): what kind of server a machine is, from its report, and what
follows from it: a role and machine settings (the disk layout first).

The operator writes them in one YAML file, a mapping from each profile's name to its description::

    dell-r640-compute:
      role: compute
      match:
        manufacturer: Dell Inc.
        product_name: [PowerEdge R640, PowerEdge R650]
        ram_gib: {min: 256}
        disks: {count: 2, kind: ssd}
      layout: {raid: "1", members: [sda, sdb]}
      settings: {nova_reserved_host_memory_mb: 16384}

``parse`` checks the whole file and refuses it in one line naming the profile and the key. ``mismatches``
says why a machine's hardware does not fit a profile (nothing when it does): the same reasons
``machine-guessed-profile --debug`` prints. A profile applies to a machine when it is the only one that fits:
two that fit are ambiguous, and neither applies.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oci import names, values
from oci.errors import InvalidInput
from oci.hwraid import LEVELS, RaidPlan
from oci.install.layout import RAID_MEMBERS
from oci.model import Disk, Hardware
from oci.model.settings import MACHINE_SETTINGS, Value, check_values

GIB = 1 << 30
DISK_KINDS = ("ssd", "hdd", "nvme")
_TOP_KEYS = {"role", "match", "layout", "settings", "description"}
_MATCH_KEYS = {"manufacturer", "product_name", "cpu_model", "ram_gib", "cpu_threads", "disks", "nics"}
_DISK_KEYS = {"count", "size_gib", "kind"}
_NIC_KEYS = {"count", "speed_mbps"}
MAX_PATTERN = 128


@dataclass(frozen=True, slots=True)
class Range:
    """Inclusive bounds; None: unbounded on that side."""

    min: float | None = None
    max: float | None = None

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def text(self) -> str:
        if self.min is not None and self.min == self.max:
            return f"{self.min:g}"
        if self.max is None:
            return f">= {self.min:g}"
        return f"<= {self.max:g}" if self.min is None else f"{self.min:g} to {self.max:g}"


@dataclass(frozen=True, slots=True)
class Match:
    """What a machine's report must show; every criterion given must hold (an empty match fits every machine)."""

    manufacturer: tuple[str, ...] = ()  # shell patterns (fnmatch, case-sensitive): one must fit
    product_name: tuple[str, ...] = ()
    cpu_model: tuple[str, ...] = ()
    ram_gib: Range | None = None
    cpu_threads: Range | None = None
    disk_count: Range | None = None  # disks counted: every disk but USB ones (of disk_kind, when given)
    disk_size_gib: Range | None = None  # each counted disk
    disk_kind: str | None = None  # ssd, hdd or nvme
    nic_count: Range | None = None  # NICs counted: those whose speed is in nic_speed_mbps, when given
    nic_speed_mbps: Range | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    role: str
    match: Match
    settings: Mapping[str, Value] = field(default_factory=dict)  # machine settings, the layout's included
    description: str = ""

    @property
    def layout(self) -> str:
        """The disk layout its settings give, in words (``raid 1 on sda sdb``, ``sda``), or ``-``."""
        if self.settings.get("install_on_raid") is True:
            level = str(self.settings["raid_type"])
            return f"raid {level} on " + " ".join(str(self.settings[f"raid_dev{i}"]) for i in range(RAID_MEMBERS[level]))
        if self.settings.get("hardware_raid", "none") != "none":
            kind = self.settings.get("hardware_raid_drive_kind", "any")
            drives = f"{self.settings['hardware_raid_drives']} {'' if kind == 'any' else f'{kind} '}drives"
            return f"hardware raid {self.settings['hardware_raid']} of {drives} on {self.settings.get('dest_blk', 'sda')}"
        return str(self.settings.get("dest_blk", "-"))


# ---------------------------------------------------------------------------------------------------- parsing
def parse(document: object, source: str = "hardware profiles") -> tuple[Profile, ...]:
    """The profiles of a loaded YAML document, in the file's order. InvalidInput, in one line, for the first
    fault: ``<source>: profile 'x': match.ram_gib.min: must be a number``."""
    if document is None:
        return ()
    if not isinstance(document, dict):
        raise InvalidInput(f"{source}: must be a mapping of profile names to profiles")
    profiles = []
    for name, body in document.items():
        if not isinstance(name, str):
            raise InvalidInput(f"{source}: profile name {name!r} is not a string")
        try:
            names.role(name)  # a profile's name follows a role's rules: one word
            profiles.append(_profile(name, body))
        except InvalidInput as exc:
            raise InvalidInput(f"{source}: profile {name!r}: {exc.message}", hint=exc.hint) from None
    return tuple(profiles)


def _profile(name: str, body: object) -> Profile:
    body = values.mapping(body, "the profile", _TOP_KEYS)
    if "role" not in body:
        raise InvalidInput("role: missing (the role a machine of this profile takes)")
    role = body["role"]
    if not isinstance(role, str):
        raise InvalidInput("role: must be a role name")
    names.role(role)
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > 255 or not description.isprintable():
        raise InvalidInput("description: must be one line of text, at most 255 characters")
    settings = _settings(body.get("settings", {}))
    layout = _layout(body.get("layout"))
    overlap = sorted(set(layout) & set(settings))
    if overlap:
        raise InvalidInput(f"settings.{overlap[0]}: the layout sets it already")
    return Profile(name, role, _match(body.get("match", {})), {**layout, **settings}, description)


def _patterns(value: object, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) and 0 < len(i) <= MAX_PATTERN and i.isprintable() for i in items):
        raise InvalidInput(f"{where}: must be a text or a list of texts (shell patterns: * and ? allowed)")
    return tuple(items)


def _range(value: object, where: str) -> Range:
    """``{min: a, max: b}`` (either may be left out), or one number: exactly that."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Range(float(value), float(value))
    bounds = values.mapping(value, where, {"min", "max"})
    for key, bound in bounds.items():
        if not isinstance(bound, int | float) or isinstance(bound, bool) or bound < 0:
            raise InvalidInput(f"{where}.{key}: must be a number, 0 or more")
    low, high = bounds.get("min"), bounds.get("max")
    if low is None and high is None:
        raise InvalidInput(f"{where}: give min, max or both")
    if low is not None and high is not None and low > high:
        raise InvalidInput(f"{where}: min {low:g} is above max {high:g}")
    return Range(None if low is None else float(low), None if high is None else float(high))


def _match(value: object) -> Match:
    body = values.mapping(value, "match", _MATCH_KEYS)
    found: dict[str, Any] = {}
    for key in ("manufacturer", "product_name", "cpu_model"):
        if key in body:
            found[key] = _patterns(body[key], f"match.{key}")
    for key in ("ram_gib", "cpu_threads"):
        if key in body:
            found[key] = _range(body[key], f"match.{key}")
    if "disks" in body:
        disks = values.mapping(body["disks"], "match.disks", _DISK_KEYS)
        if "count" in disks:
            found["disk_count"] = _range(disks["count"], "match.disks.count")
        if "size_gib" in disks:
            found["disk_size_gib"] = _range(disks["size_gib"], "match.disks.size_gib")
        if "kind" in disks:
            if disks["kind"] not in DISK_KINDS:
                raise InvalidInput(f"match.disks.kind: must be one of {', '.join(DISK_KINDS)}")
            found["disk_kind"] = disks["kind"]
    if "nics" in body:
        nics = values.mapping(body["nics"], "match.nics", _NIC_KEYS)
        if "count" in nics:
            found["nic_count"] = _range(nics["count"], "match.nics.count")
        if "speed_mbps" in nics:
            found["nic_speed_mbps"] = _range(nics["speed_mbps"], "match.nics.speed_mbps")
    return Match(**found)


def _layout(value: object) -> dict[str, Value]:
    """A layout as the machine settings the installer reads: ``{disk: sda}`` (dest_blk), ``{raid: "1",
    members: [sda, sdb]}`` (install_on_raid, raid_type, raid_dev0..), or ``{hardware_raid: {level: "1",
    drives: 2, kind: ssd}}`` with an optional ``disk`` (hardware_raid, hardware_raid_drives, _drive_kind)."""
    if value is None:
        return {}
    body = values.mapping(value, "layout", {"disk", "raid", "members", "hardware_raid"})
    if "hardware_raid" in body:
        return _hardware_raid(body)
    if "disk" in body:
        if set(body) != {"disk"}:
            raise InvalidInput("layout: either a disk, or a raid level and its members")
        return _checked({"dest_blk": body["disk"]}, "layout.disk")
    if set(body) != {"raid", "members"}:
        raise InvalidInput("layout: give disk (one disk), or raid (a level) and members (its disks)")
    level = str(body["raid"])
    if level not in RAID_MEMBERS:
        raise InvalidInput(f"layout.raid: must be one of {', '.join(RAID_MEMBERS)}")
    members = body["members"]
    if not isinstance(members, list) or len(members) != RAID_MEMBERS[level]:
        raise InvalidInput(f"layout.members: RAID {level} takes {RAID_MEMBERS[level]} disks")
    if len(set(map(str, members))) != len(members):
        raise InvalidInput("layout.members: a disk is listed twice")
    raid = {"install_on_raid": True, "raid_type": level, **{f"raid_dev{i}": m for i, m in enumerate(members)}}
    return _checked(raid, "layout.members")


def _hardware_raid(body: Mapping[str, object]) -> dict[str, Value]:
    if set(body) - {"hardware_raid", "disk"}:
        raise InvalidInput("layout: hardware_raid goes with disk only (the logical drive's name), not with a software RAID")
    plan = values.mapping(body["hardware_raid"], "layout.hardware_raid", {"level", "drives", "kind"})
    if "level" not in plan:
        raise InvalidInput("layout.hardware_raid.level: required (0, 1, 5, 6 or 10)")
    settings = {"hardware_raid": str(plan["level"]), "hardware_raid_drives": plan.get("drives", LEVELS.get(str(plan["level"]), (2,))[0]),
                "hardware_raid_drive_kind": plan.get("kind", "any")}  # fmt: skip
    checked = _checked(settings, "layout.hardware_raid")
    try:  # the level's drive count, as the install would refuse it
        RaidPlan(str(checked["hardware_raid"]), int(checked["hardware_raid_drives"]), str(checked["hardware_raid_drive_kind"]))
    except InvalidInput as exc:
        raise InvalidInput(f"layout.hardware_raid: {exc.message}") from None
    return {**checked, **(_checked({"dest_blk": body["disk"]}, "layout.disk") if "disk" in body else {})}


def _settings(value: object) -> dict[str, Value]:
    if not isinstance(value, dict):
        raise InvalidInput("settings: must be a mapping of machine settings (machine-set's names) to values")
    return _checked(value, "settings")


def _checked(values: Mapping[str, object], where: str) -> dict[str, Value]:
    try:
        return check_values(MACHINE_SETTINGS, values)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}", hint="see machine-set --help") from None


# --------------------------------------------------------------------------------------------------- matching
def disk_kind(disk: Disk) -> str | None:
    if disk.transport == "nvme" or disk.name.startswith("nvme"):
        return "nvme"
    if disk.rotational is None:
        return None
    return "hdd" if disk.rotational else "ssd"


def _fits(patterns: Sequence[str], value: str | None) -> bool:
    return value is not None and any(fnmatch.fnmatchcase(value, p) for p in patterns)


def mismatches(profile: Profile, hardware: Hardware) -> list[str]:
    """Why ``hardware`` does not fit ``profile``, one reason per criterion that fails; empty: it fits."""
    m, why = profile.match, []
    for key, value in (("manufacturer", hardware.manufacturer), ("product_name", hardware.product_name),
                       ("cpu_model", hardware.cpu.model if hardware.cpu else None)):  # fmt: skip
        patterns = getattr(m, key)
        if patterns and not _fits(patterns, value):
            why.append(f"{key} {value or 'not reported'!s} is not {' or '.join(patterns)}")
    if m.ram_gib is not None:
        ram = hardware.memory.total_mb / 1024 if hardware.memory else None
        if ram is None or not m.ram_gib.holds(round(ram)):
            why.append(f"RAM {'not reported' if ram is None else f'{ram:.0f} GiB'} is not {m.ram_gib.text()} GiB")
    if m.cpu_threads is not None:
        threads = hardware.cpu.threads if hardware.cpu else None
        if threads is None or not m.cpu_threads.holds(threads):
            why.append(f"CPU threads {threads if threads is not None else 'not reported'} is not {m.cpu_threads.text()}")
    disks = [d for d in hardware.disks if d.transport != "usb" and (m.disk_kind is None or disk_kind(d) == m.disk_kind)]
    kind = f"{m.disk_kind} " if m.disk_kind else ""
    if m.disk_count is not None and not m.disk_count.holds(len(disks)):
        why.append(f"{len(disks)} {kind}disk(s), not {m.disk_count.text()}")
    if m.disk_size_gib is not None:
        size = m.disk_size_gib
        wrong = [d for d in disks if not size.holds(round(d.size_bytes / GIB))]
        if wrong:
            why.append(f"disk {wrong[0].name} is {wrong[0].size_bytes / GIB:.0f} GiB, not {size.text()} GiB")
        elif not disks:
            why.append(f"no {kind}disk of {size.text()} GiB")
    if m.nic_count is not None:
        speed = m.nic_speed_mbps
        nics = [n for n in hardware.nics if speed is None or (n.speed_mbps is not None and speed.holds(n.speed_mbps))]
        if not m.nic_count.holds(len(nics)):
            at = f" at {speed.text()} Mb/s" if speed else ""
            why.append(f"{len(nics)} NIC(s){at}, not {m.nic_count.text()}")
    elif m.nic_speed_mbps is not None:
        fast = [n for n in hardware.nics if n.speed_mbps is not None and m.nic_speed_mbps.holds(n.speed_mbps)]
        if not fast:
            why.append(f"no NIC at {m.nic_speed_mbps.text()} Mb/s")
    return why


def fitting(profiles: Sequence[Profile], hardware: Hardware) -> list[Profile]:
    return [p for p in profiles if not mismatches(p, hardware)]


def applying(profiles: Sequence[Profile], hardware: Hardware) -> Profile | None:
    """The profile that applies to the machine: the only one it fits; None when none fits, or several do."""
    found = fitting(profiles, hardware)
    return found[0] if len(found) == 1 else None
