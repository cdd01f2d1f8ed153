"""Which networks a machine is on (reference §5.3), as pure functions over a cluster's current state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from oci.model import Cluster, Network, NetworkRole
from oci.naming import natural_key


@dataclass(frozen=True, slots=True)
class Member:
    """An enrolled machine, as far as the cluster's rules care."""

    serial: str
    cluster: str
    role: str
    location: str
    hostname: str


@dataclass(frozen=True)
class ClusterView:
    """A cluster with its attached networks and its enrolled machines, as they are now."""

    cluster: Cluster
    networks: tuple[Network, ...]
    members: tuple[Member, ...]  # sorted by hostname, numbers in natural order

    @classmethod
    def build(cls, cluster: Cluster, networks: Iterable[Network], members: Iterable[Member]) -> ClusterView:
        nets = tuple(sorted((n for n in networks if n.cluster == cluster.name), key=lambda n: n.name))
        mine = sorted((m for m in members if m.cluster == cluster.name), key=lambda m: natural_key(m.hostname))
        return cls(cluster, nets, tuple(mine))

    def with_role(self, role: str) -> list[Member]:
        return [m for m in self.members if m.role == role]

    def has_role(self, role: str) -> bool:
        return any(m.role == role for m in self.members)


def network_roles_for(role: str, has_network_nodes: bool) -> set[str]:
    """The network roles a machine of ``role`` is on."""
    roles = {role, NetworkRole.ALL.value}
    tunnels = {NetworkRole.VM_NET.value, NetworkRole.OVS_BRIDGE.value}
    if role in ("compute", "network"):
        roles |= tunnels
    if role == "cephosd":
        roles.add(NetworkRole.CEPH_CLUSTER.value)
    if role == "controller" and not has_network_nodes:
        roles |= tunnels  # without network nodes the controllers carry the Neutron L3 agents
    return roles


def networks_of(view: ClusterView, role: str, location: str) -> list[Network]:
    """The cluster's networks in ``location`` that a machine of ``role`` is on."""
    roles = network_roles_for(role, view.has_role("network"))
    return [n for n in view.networks if n.location == location and n.role in roles]


def addressed_networks(view: ClusterView, role: str, location: str) -> list[Network]:
    """Those of ``networks_of`` on which the machine gets an address: public networks carry only VIPs
    and OVS bridge networks carry no address at all."""
    return [n for n in networks_of(view, role, location) if not n.public and n.role != NetworkRole.OVS_BRIDGE.value]


def management_networks(view: ClusterView, role: str, location: str) -> list[Network]:
    """Addressed networks that are not special-purpose: exactly one is expected (the node's main network)."""
    special = {NetworkRole.VM_NET.value, NetworkRole.CEPH_CLUSTER.value, NetworkRole.IPMI.value, NetworkRole.VIP.value}
    return [n for n in addressed_networks(view, role, location) if n.role not in special]
