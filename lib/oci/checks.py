"""What a cluster still lacks, in plain words, before it fails later (install, ENC)."""

from __future__ import annotations

from oci import ipam, placement, vips
from oci.model import AllocationKind
from oci.placement import ClusterView


def problems(view: ClusterView) -> list[str]:
    out = []
    if not view.has_role("controller"):
        out.append("no controller: every OpenStack cluster needs at least one (machine-add <serial> <cluster> controller <location>)")
    elif view.cluster.first_master is None or not any(m.serial == view.cluster.first_master for m in view.members):
        out.append("no first master: set one with cluster-set --first-master <serial of a controller>")
    reserved = vips.current(view)
    for need in vips.needs(view):
        if need.problem:
            out.append(need.problem)
        elif need.usage not in reserved:
            out.append(f"the {need.usage.value} VIP has no address yet (networks {', '.join(need.candidates)} may be full)")
    for member in view.members:
        mgmt = placement.management_networks(view, member.role, member.location)
        who = f"{member.hostname} ({member.serial})"
        if not mgmt:
            out.append(f"{who} has no management network: attach one in location {member.location} (role {member.role} or all)")
        elif len(mgmt) > 1:
            out.append(f"{who} has {len(mgmt)} management networks ({', '.join(n.name for n in mgmt)}): a node needs exactly one")
        for network in placement.addressed_networks(view, member.role, member.location):
            if not ipam.addresses_of(network, AllocationKind.MACHINE, member.serial):
                out.append(f"{who} has no address on network {network.name}")
    return out
