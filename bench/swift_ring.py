"""swift-calculate-ring on a cluster of S stores with D data disks each (3 locations, one region), at partition
power P: the first calculation (three rings created and rebalanced), then one more store added (its devices
added, a rebalance). Prints the time of each, the devices and the partitions. Needs Debian's swift package.

    swift_ring.py STORESxDISKS@POWER ...      (default: 6x4@16 12x4@19)
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "lib"))

from oci.config import Config  # noqa: E402
from oci.report import v1  # noqa: E402
from oci.service import clusters, machines, networks, reports, swiftring, topology  # noqa: E402
from oci.store import Store  # noqa: E402

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LOCATIONS = ("dc1-a", "dc1-b", "dc1-c")


def store_report(serial: str, index: int, disks: int) -> dict[str, object]:
    return {
        "version": 1,
        "serial": serial,
        "system": {"manufacturer": "Dell Inc.", "product_name": "PowerEdge R740xd2", "uefi": True},
        "memory": {"total_mb": 131072},
        "disks": [
            {"name": "sda", "size_bytes": 480 << 30},
            *({"name": f"sd{chr(ord('b') + d)}", "size_bytes": 16 << 40} for d in range(disks)),
        ],  # fmt: skip
        "nics": [{"name": "eno1", "mac": f"52:54:00:aa:{index >> 8:02x}:{index & 255:02x}", "speed_mbps": 25000}],
    }


def enrol(store: Store, first: int, count: int, disks: int) -> None:
    for index in range(first, first + count):
        serial = f"ST{index:04d}"
        reports.record(store, v1.parse(store_report(serial, index, disks)), IPv4Address("192.168.100.20"), NOW)
        machines.add(store, serial, "sw1", "swiftstore", LOCATIONS[index % len(LOCATIONS)])


def one(stores: int, disks: int, power: int) -> None:
    with tempfile.TemporaryDirectory(prefix="oci-bench-swift-") as tmp:
        store = Store(Path(tmp) / "state", lock_timeout=60, config=replace(Config(), state_dir=Path(tmp) / "state"))
        topology.region_create(store, "r1")
        clusters.create(store, "sw1", "example.com")
        for number, location in enumerate(LOCATIONS):
            topology.location_create(store, location, "r1")
            networks.create(store, f"net-{location}", f"10.{number}.0.0", "16", location, "no")
            networks.add(store, f"net-{location}", "sw1", "all", "eno1")
        clusters.set_(store, "sw1", {"swift_part_power": power}, [])
        enrol(store, 0, stores, disks)
        started = time.monotonic()
        first = swiftring.calculate(store, "sw1")
        created = time.monotonic() - started
        enrol(store, stores, 1, disks)
        started = time.monotonic()
        added = swiftring.calculate(store, "sw1")
        grown = time.monotonic() - started
    print(f"swift-calculate-ring, {stores} stores x {disks} disks, partition power {power} ({1 << power} partitions, 3 replicas): "
          f"create {created:.1f} s ({first['devices']} devices in 3 rings); one store more {grown:.1f} s "
          f"({len(added['added'])} devices added, {added['devices']} in all)")  # fmt: skip


def main(sizes: list[str]) -> None:
    for size in sizes or ["6x4@16", "12x4@19"]:
        shape, _, power = size.partition("@")
        stores, _, disks = shape.partition("x")
        one(int(stores), int(disks), int(power))


if __name__ == "__main__":
    main(sys.argv[1:])
