"""Virtual IPs of a cluster, computed from the cluster as it is.

The reference reserves the SQL VIP only when the first sql node comes before any controller, and the
messaging VIP only when a ``vip`` network is attached before the first messaging node (its defect 21).
Here the needs are recomputed from the whole cluster after every change (``needs()``), and a need that
has no address yet gets one (``service`` reserves it), so the order of commands does not matter.
A VIP that was reserved keeps its address while its network stays attached: a VIP must not move under a
running cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address

from oci.model import AllocationKind, Network, NetworkRole
from oci.placement import ClusterView, management_networks


class VipUsage(StrEnum):
    API = "api"
    SQL = "sql"
    MESSAGING = "messaging"


API_NETWORK_ROLES = ("controller", NetworkRole.ALL.value)


@dataclass(frozen=True)
class VipNeed:
    usage: VipUsage
    candidates: tuple[str, ...]  # networks to reserve it on, in order of preference
    problem: str | None  # why it cannot be reserved, when ``candidates`` is empty


def public_networks(view: ClusterView) -> list[Network]:
    return [n for n in view.networks if n.public and n.role in API_NETWORK_ROLES]


def needs(view: ClusterView) -> list[VipNeed]:
    out = []
    public = public_networks(view)
    if len(public) == 1:
        out.append(VipNeed(VipUsage.API, (public[0].name,), None))
    elif not public:
        out.append(VipNeed(VipUsage.API, (), "no public network is attached with role controller or all: the API VIP needs one"))
    else:
        names = ", ".join(n.name for n in public)
        out.append(VipNeed(VipUsage.API, (), f"{len(public)} public networks are attached ({names}): the API VIP needs exactly one"))

    sql_nodes = view.with_role("sql")
    if sql_nodes:
        first = sql_nodes[0]
        candidates = tuple(n.name for n in management_networks(view, "sql", first.location))
        problem = None if candidates else f"the sql nodes have no management network in location {first.location} for the SQL VIP"
        out.append(VipNeed(VipUsage.SQL, candidates, problem))

    if view.has_role("messaging"):
        candidates = tuple(n.name for n in view.networks if n.role == NetworkRole.VIP.value)
        problem = None if candidates else "messaging nodes need a network attached with role vip for the messaging VIP"
        out.append(VipNeed(VipUsage.MESSAGING, candidates, problem))
    return out


def current(view: ClusterView) -> dict[VipUsage, tuple[Network, IPv4Address]]:
    """The VIPs reserved on the cluster's networks."""
    out = {}
    for network in view.networks:
        for a in network.allocations:
            if a.kind is AllocationKind.VIP:
                out[VipUsage(a.owner)] = (network, a.address)
    return out


def sql_vip(view: ClusterView) -> IPv4Address | None:
    """Without sql nodes, the controllers run Galera behind the API VIP (as the reference does)."""
    reserved = current(view)
    usage = VipUsage.SQL if view.has_role("sql") else VipUsage.API
    return reserved[usage][1] if usage in reserved else None
