"""What a discovery report tells about a machine's hardware.

Every field a node may fail to report is optional: a missing value is ``None``, never a placeholder string
such as "Not reported" (the reference's habit), so consumers can tell "unknown" from a real value.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address


@dataclass(frozen=True, slots=True)
class Cpu:
    vendor: str | None = None
    model: str | None = None
    sockets: int | None = None
    cores_per_socket: int | None = None
    threads: int | None = None
    mhz: float | None = None


@dataclass(frozen=True, slots=True)
class Memory:
    total_mb: int
    dimm_type: str | None = None
    speed: str | None = None
    manufacturer: str | None = None


@dataclass(frozen=True, slots=True)
class Disk:
    name: str  # the stable name (udev oci-sort alias when present), e.g. sda
    size_bytes: int
    realdev: str | None = None  # kernel name when ``name`` is an alias
    model: str | None = None
    serial: str | None = None
    transport: str | None = None  # sata, sas, nvme, usb, ...
    rotational: bool | None = None


@dataclass(frozen=True, slots=True)
class Nic:
    name: str
    mac: str  # lowercase aa:bb:cc:dd:ee:ff
    speed_mbps: int | None = None
    driver: str | None = None
    firmware: str | None = None
    switch_name: str | None = None  # LLDP neighbour: chassis name
    switch_port: str | None = None  # LLDP neighbour: port id


@dataclass(frozen=True, slots=True)
class StorageController:
    id: str
    vendor: str | None = None
    product: str | None = None
    kind: str | None = None  # nvme, LSI-raid, SSA, LSI-noraid, HP-JBOD, none
    firmware: str | None = None


@dataclass(frozen=True, slots=True)
class RaidDrive:
    slot: str
    size_bytes: int
    model: str | None = None
    serial: str | None = None
    state: str | None = None


@dataclass(frozen=True, slots=True)
class Bmc:
    address: IPv4Address | None = None  # as configured in the BMC (ipmitool lan print)
    firmware: str | None = None
    mac: str | None = None


@dataclass(frozen=True, slots=True)
class Hardware:
    manufacturer: str | None = None
    product_name: str | None = None
    bios_version: str | None = None
    lifecycle_version: str | None = None  # Dell Lifecycle Controller
    uefi: bool | None = None
    secure_boot: bool | None = None
    uses_sorted_disk_names: bool = False  # /dev/disk/oci-sort present
    cpu: Cpu | None = None
    memory: Memory | None = None
    disks: tuple[Disk, ...] = ()
    nics: tuple[Nic, ...] = ()
    storage_controllers: tuple[StorageController, ...] = ()
    raid_drives: tuple[RaidDrive, ...] = ()
    bmc: Bmc | None = None

    @property
    def memory_mb(self) -> int | None:
        return self.memory.total_mb if self.memory else None
