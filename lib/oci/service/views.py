"""Read-side views of the state: machine summaries, memberships, addresses.

``machine_view()`` is what the listing cache stores for each machine file (store.machine_views); bump
``VIEW_VERSION`` whenever its output changes.
"""

from __future__ import annotations

from collections import defaultdict
from ipaddress import IPv4Address
from typing import Any

from oci.model import AllocationKind, Machine, Network
from oci.placement import Member
from oci.store import Store, register_listing_view

VIEW_VERSION = "machine-view-1"


def _size(size_bytes: int) -> str:
    for unit, factor in (("T", 10**12), ("G", 10**9), ("M", 10**6)):
        if size_bytes >= factor:
            return f"{size_bytes / factor:.0f}{unit}"
    return f"{size_bytes}B"


def _speed(mbps: int | None) -> str:
    if mbps is None:
        return "?"
    return f"{mbps // 1000}G" if mbps >= 1000 and mbps % 1000 == 0 else f"{mbps}M"


def machine_view(machine: Machine) -> dict[str, Any]:
    hw = machine.hardware
    enrolment = machine.enrolment
    return {
        "serial": machine.serial,
        "status": machine.status.value,
        "puppet_status": machine.puppet_status.value,
        "first_seen": machine.first_seen.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "cluster": enrolment.cluster if enrolment else None,
        "role": enrolment.role if enrolment else None,
        "location": enrolment.location if enrolment else None,
        "hostname": enrolment.hostname if enrolment else None,
        "manufacturer": hw.manufacturer,
        "product_name": hw.product_name,
        "memory_mb": hw.memory_mb,
        "cpu_model": hw.cpu.model if hw.cpu else None,
        "cpu_threads": hw.cpu.threads if hw.cpu else None,
        "uefi": hw.uefi,
        "disks": " ".join(f"{d.name}:{_size(d.size_bytes)}" for d in hw.disks),
        "nics": " ".join(f"{n.name}:{n.mac}@{_speed(n.speed_mbps)}" for n in hw.nics),
        "notes": machine.settings.get("notes", ""),
    }


register_listing_view(VIEW_VERSION, machine_view)  # each machine file's writer leaves its view beside it


def machine_views(store: Store) -> dict[str, dict[str, Any]]:
    return store.machine_views(machine_view, VIEW_VERSION)


def members(views: dict[str, dict[str, Any]]) -> list[Member]:
    return [Member(v["serial"], v["cluster"], v["role"], v["location"], v["hostname"]) for v in views.values() if v["cluster"] is not None]


def addresses_by_owner(networks: list[Network], kind: AllocationKind) -> dict[str, list[tuple[str, IPv4Address]]]:
    """owner -> [(network name, address)], in network-name order."""
    out: dict[str, list[tuple[str, IPv4Address]]] = defaultdict(list)
    for network in sorted(networks, key=lambda n: n.name):
        for a in network.allocations:
            if a.kind is kind:
                out[a.owner].append((network.name, a.address))
    return out
