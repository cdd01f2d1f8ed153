"""Which disks an install uses and how they are cut: a pure function of the reported disks and the
machine's settings.

Every disk of an install gets the same GPT table, so one layout boots in BIOS and UEFI mode alike and any
RAID member can boot the machine: a 1 MiB BIOS boot partition (where grub's i386-pc core goes), a 512 MiB
EFI system partition, and the rest for the root file system (or for the RAID array that holds it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from oci.errors import InvalidInput
from oci.hwraid import RaidPlan
from oci.model import Hardware
from oci.naming import natural_key

GIB = 1 << 30
MIB = 1 << 20
# Members a software RAID level takes (raid_dev0, raid_dev1, ... in order).
RAID_MEMBERS = {"0": 2, "1": 2, "5": 3, "10": 4}


class PartitionRole(StrEnum):
    BIOS_BOOT = "bios-boot"
    ESP = "esp"
    ROOT = "root"
    RAID = "raid"  # a member of the array that holds the root file system


# GPT partition type GUIDs (the UEFI specification's and systemd's Discoverable Partitions Specification).
TYPE_GUIDS = {
    PartitionRole.BIOS_BOOT: "21686148-6449-6E6F-744E-656564454649",
    PartitionRole.ESP: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
    PartitionRole.ROOT: "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",  # Linux root (x86-64)
    PartitionRole.RAID: "A19D880F-05FC-4D3B-A006-743F0F84911E",  # Linux RAID
}


@dataclass(frozen=True, slots=True)
class Partition:
    number: int
    role: PartitionRole
    size_mib: int | None  # None: the rest of the disk

    @property
    def type_guid(self) -> str:
        return TYPE_GUIDS[self.role]


def partition_device(disk: str, number: int) -> str:
    """The kernel name of partition ``number`` of ``disk``: sda -> sda3, nvme0n1 -> nvme0n1p3, loop0 -> loop0p3."""
    return f"{disk}p{number}" if disk[-1].isdigit() else f"{disk}{number}"


@dataclass(frozen=True, slots=True)
class DiskLayout:
    """The disks of an install (kernel names, in order), the partitions each gets, and the RAID level."""

    disks: tuple[str, ...]
    raid_level: str | None = None  # "0", "1", "5", "10"; None: the root file system on the first disk
    raid_device: str = "md0"
    # Built on the RAID controller before the install; its logical drive is then the one disk of ``disks``.
    hardware_raid: RaidPlan | None = None

    @property
    def partitions(self) -> tuple[Partition, ...]:
        root = PartitionRole.RAID if self.raid_level else PartitionRole.ROOT
        return (Partition(1, PartitionRole.BIOS_BOOT, 1), Partition(2, PartitionRole.ESP, 512), Partition(3, root, None))

    @property
    def root_members(self) -> tuple[str, ...]:
        """The partitions of the RAID array (empty without RAID)."""
        return tuple(partition_device(d, 3) for d in self.disks) if self.raid_level else ()

    @property
    def root_device(self) -> str:
        return self.raid_device if self.raid_level else partition_device(self.disks[0], 3)

    @property
    def esp_devices(self) -> tuple[str, ...]:
        """Every disk's EFI system partition: the first is mounted on /boot/efi, the others get copies."""
        return tuple(partition_device(d, 2) for d in self.disks)


def _gib(size: int) -> str:
    return f"{size / GIB:.1f} GiB"


def layout_for(hardware: Hardware, settings: Mapping[str, object], minimum_bytes: int) -> DiskLayout:
    """The layout for a machine with these reported disks and effective machine settings (``dest_blk``,
    ``install_on_raid``, ``raid_type``, ``raid_dev0``..``raid_dev3``). InvalidInput, in one line, for a
    disk that was not reported, a member given twice, a disk smaller than ``minimum_bytes``."""
    sizes = {d.name: d.size_bytes for d in hardware.disks}
    hardware_raid = settings.get("hardware_raid", "none")
    if hardware_raid != "none":
        return _hardware_raid_layout(settings, str(hardware_raid))
    if not sizes:
        raise InvalidInput("the machine reported no disk", hint="check its hardware report (machine-show)")
    if settings.get("install_on_raid") is True:
        level = str(settings.get("raid_type"))
        if level not in RAID_MEMBERS:
            raise InvalidInput(f"unknown RAID level {level!r}", hint="raid_type is one of " + ", ".join(RAID_MEMBERS))
        disks = tuple(str(settings.get(f"raid_dev{i}")) for i in range(RAID_MEMBERS[level]))
        repeated = sorted({d for d in disks if disks.count(d) > 1})
        if repeated:
            hint = f"raid_dev0..raid_dev{len(disks) - 1} must be different disks"
            raise InvalidInput(f"RAID {level} lists {repeated[0]} twice", hint=hint)
    else:
        level = None
        chosen = settings.get("dest_blk")
        if chosen and chosen != "none":
            disks = (str(chosen),)
        else:
            # As OCI 42: the disk named like the first of its kind (sda, vda), else the first in name order;
            # never a USB stick (the installer's own medium, often).
            candidates = sorted((d for d in hardware.disks if d.transport != "usb"), key=lambda d: natural_key(d.name))
            if not candidates:
                raise InvalidInput("the machine reported no disk but USB ones", hint="choose one with machine-set --dest-blk")
            disks = (next((d.name for d in candidates if d.name.endswith("a")), candidates[0].name),)
    for disk in disks:
        if disk not in sizes:
            raise InvalidInput(f"the machine has no disk {disk}", hint="reported disks: " + ", ".join(sorted(sizes, key=natural_key)))
        if sizes[disk] < minimum_bytes:
            raise InvalidInput(f"disk {disk} ({_gib(sizes[disk])}) is smaller than the {_gib(minimum_bytes)} an install needs")
    return DiskLayout(disks, level)


def _hardware_raid_layout(settings: Mapping[str, object], level: str) -> DiskLayout:
    """The controller builds the system disk: its name (``dest_blk``, ``sda`` by default: the controller's
    first logical drive) cannot be checked against the report, made before the logical drive existed."""
    if settings.get("install_on_raid") is True:
        raise InvalidInput("hardware_raid and install_on_raid are both set", hint="the system disk is one or the other: set one to none/no")
    drives, kind = settings.get("hardware_raid_drives", 2), str(settings.get("hardware_raid_drive_kind", "any"))
    plan = RaidPlan(level, drives if isinstance(drives, int) else 0, kind)
    chosen = settings.get("dest_blk")
    return DiskLayout((str(chosen) if chosen and chosen != "none" else "sda",), hardware_raid=plan)


def data_disks(hardware: Hardware, settings: Mapping[str, object], minimum_bytes: int) -> tuple[str, ...]:
    """The disks the install leaves alone, in reported order: a Swift store's devices. USB disks are never data
    disks. InvalidInput as ``layout_for`` when the system's layout is wrong (its disks cannot be told apart)."""
    system = set(layout_for(hardware, settings, minimum_bytes).disks)
    return tuple(d.name for d in hardware.disks if d.name not in system and d.transport != "usb")
