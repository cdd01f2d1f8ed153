"""Swift rings from a cluster's stores (pure: docs/swift.md). ``service/swiftring.py`` runs the commands.

Each swiftstore machine serves its data disks: every reported disk that the OS install does not use (the
install layout's disks). For each of the account, container and object rings it serves (``swift_store_*``), each
data disk becomes a ring device at the store's management address. Accounts are on port 6002 and containers on
6001, as OCI 42 has them; objects are on 6200, 6201, ..., one port per disk (the object server per disk, as
Debian's swift-object configures it). The device's region is its location's Swift region, and its zone is its
location.

swift-ring-builder wants numbers for regions and zones. They are given once, in name order among the new ones
after the highest given so far, and kept in the ring folder's record (``rings.yaml``). A later location never
renumbers an earlier one: a renumbered zone would move every partition of the ring.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from oci.naming import natural_key

RINGS = ("account", "container", "object")
ACCOUNT_PORT, CONTAINER_PORT, OBJECT_BASE_PORT = 6002, 6001, 6200
DEFAULT_WEIGHT = 1000.0


@dataclass(frozen=True, slots=True)
class SwiftStore:
    """A swiftstore machine as the rings see it."""

    hostname: str
    address: str
    region: str  # the Swift region of its location
    zone: str  # its location
    disks: tuple[str, ...]  # data disks, kernel names
    rings: frozenset[str]  # which of RINGS it serves


@dataclass(frozen=True, slots=True)
class Device:
    ring: str
    region: int
    zone: int
    ip: str
    port: int
    name: str
    weight: float

    @property
    def search(self) -> str:
        """swift-ring-builder's form of the device: ``r1z2-10.0.0.5:6200/sdb``."""
        return f"r{self.region}z{self.zone}-{self.ip}:{self.port}/{self.name}"

    @property
    def key(self) -> tuple[str, str, int, str]:
        """What makes it the same device from one calculation to the next (a new weight does not)."""
        return self.ring, self.ip, self.port, self.name


@dataclass(frozen=True, slots=True)
class Parameters:
    part_power: int
    replicas: int
    min_part_hours: int = 1


def numbered(known: Mapping[str, int], names: Iterable[str]) -> dict[str, int]:
    """``known`` kept as it is, and each new name numbered after the highest so far, in name order."""
    out = dict(known)
    for name in sorted(set(names) - set(known), key=natural_key):
        out[name] = max(out.values(), default=0) + 1
    return out


def devices(stores: Iterable[SwiftStore], regions: Mapping[str, int], zones: Mapping[str, int],
            weights: Mapping[str, float]) -> list[Device]:  # fmt: skip
    """Every device the rings should hold, ring by ring, in address then disk order."""
    out = []
    ordered = sorted(stores, key=lambda s: tuple(int(part) for part in s.address.split(".")))
    for ring in RINGS:
        for store in ordered:
            if ring not in store.rings:
                continue
            for index, disk in enumerate(sorted(store.disks, key=natural_key)):
                port = {"account": ACCOUNT_PORT, "container": CONTAINER_PORT}.get(ring, OBJECT_BASE_PORT + index)
                out.append(Device(ring, regions[store.region], zones[store.zone], store.address, port, disk, weights[ring]))
    return out


def commands(folder: str, ring: str, parameters: Parameters, create: bool, to_add: Sequence[Device]) -> list[list[str]]:
    """swift-ring-builder's argv on ``folder``'s builder of ``ring``: create (a new ring), add each new device,
    rebalance (which writes the ring file beside the builder)."""
    builder = f"{folder}/{ring}.builder"
    argv = []
    if create:
        argv.append(["swift-ring-builder", builder, "create", str(parameters.part_power), str(parameters.replicas),
                     str(parameters.min_part_hours)])  # fmt: skip
    if to_add:  # one call for all: each call of the tool costs a second or two of Python start-up
        argv.append(["swift-ring-builder", builder, "add", *(word for d in to_add for word in (d.search, f"{d.weight:g}"))])
    argv.append(["swift-ring-builder", builder, "rebalance"])
    return argv
