"""From the cluster's state to a ``HostNetwork``: which devices a machine needs and what sits on them.

The rules are OCI 42's (reference §5.6), made explicit:

* a machine is on the networks ``placement.networks_of`` gives; public networks carry only VIPs (managed by
  the cluster's services, not by the host's configuration) and are not configured;
* a network's ``iface1`` alone is a NIC, ``iface1`` + ``iface2`` a bond (LACP) of the two; two networks on the
  same NICs share the NIC or the bond; a ``vlan`` adds a VLAN device ``<link>.<vlan>``, on a single NIC too;
* an ``ovs-bridge`` network is an Open vSwitch bridge named after its ``bridge_name``, with no address;
* a network with a ``bridge_name`` (other roles) puts its addresses on a Linux bridge of that name;
* a node that carries the cloud's external traffic (compute and network nodes; controllers when the cluster
  has computes but no network node) and has no ``vm-net`` network gets its management address on the OVS
  bridge ``br-ex``, unless the cluster's Neutron L2 agent is ``linuxbridge``: that agent bridges the NIC itself
  (a Linux bridge cannot be a port of the bridge it makes) and moves the address onto its bridge;
* only the management network has a gateway: ``vm-net`` and ``ceph-cluster`` never do;
* a device's MTU is the largest of the MTUs of the networks on it and of the devices on top of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Interface

from oci import ipam
from oci.errors import InvalidInput
from oci.model import AllocationKind, Network, NetworkRole
from oci.model.hardware import Nic
from oci.netconf import nics as nic_names
from oci.netconf.model import Bond, Bridge, BridgeKind, Device, HostNetwork, Physical, Vlan
from oci.placement import ClusterView, Member, management_networks, networks_of

EXTERNAL_BRIDGE = "br-ex"
_MAX_NAME = 15  # IFNAMSIZ - 1


def carries_external(view: ClusterView, role: str) -> bool:
    """Whether machines of ``role`` carry the external (provider) traffic of the cloud."""
    if role in ("compute", "network"):
        return True
    return role == "controller" and view.has_role("compute") and not view.has_role("network")


class _Devices:
    """The devices gathered so far, in the order they were first needed (the renderers sort them)."""

    def __init__(self, hostname: str, nics: Sequence[Nic]) -> None:
        self.hostname = hostname
        self.nics = nics
        self.devices: dict[str, Device] = {}
        self.bonds: dict[frozenset[str], str] = {}

    def _nic(self, name: str, network: Network) -> str:
        nic = nic_names.resolve(name, self.nics, f"{self.hostname}, network {network.name}")
        self.devices.setdefault(nic.name, Physical(name=nic.name, mac=nic.mac, speed_mbps=nic.speed_mbps))
        return nic.name

    def link(self, network: Network) -> str:
        """The device that carries ``network``'s traffic: a NIC, a bond or a VLAN on one of them."""
        if network.iface1 is None:
            raise InvalidInput(f"network {network.name} has no interface", hint=f"network-set {network.name} --iface1 NAME")
        base = self._nic(network.iface1, network)
        if network.iface2 is not None:
            second = self._nic(network.iface2, network)
            if second == base:
                raise InvalidInput(f"{self.hostname}, network {network.name}: iface1 and iface2 are both {base}")
            pair = frozenset((base, second))
            if pair not in self.bonds:
                self.bonds[pair] = f"bond{len(self.bonds)}"
                self.devices[self.bonds[pair]] = Bond(name=self.bonds[pair], members=(base, second))
            base = self.bonds[pair]
        if network.vlan is None:
            return base
        name = f"{base}.{network.vlan}"
        if len(name) > _MAX_NAME:
            raise InvalidInput(
                f"{self.hostname}, network {network.name}: the VLAN device {name} would exceed {_MAX_NAME} characters",
                hint="put the VLAN on a bond (bondN.VLAN), or rename the NIC",
            )
        self.devices.setdefault(name, Vlan(name=name, link=base, vlan_id=network.vlan))
        return name

    def bridge(self, name: str, port: str, kind: BridgeKind) -> str:
        existing = self.devices.get(name)
        if existing is None:
            self.devices[name] = Bridge(name=name, ports=(port,), kind=kind)
        elif not (isinstance(existing, Bridge) and existing.kind is kind and existing.ports == (port,)):
            raise InvalidInput(f"{self.hostname}: {name} is needed both as a {kind.value} bridge on {port} and as {_what(existing)}")
        return name

    def configure(self, name: str, network: Network, addresses: Sequence[IPv4Address], gateway: IPv4Address | None) -> None:
        device = self.devices[name]
        self.devices[name] = replace(
            device,
            addresses=device.addresses + tuple(IPv4Interface((a, network.prefix)) for a in addresses),
            gateway=gateway or device.gateway,
            mtu=_larger(device.mtu, network.mtu),
            networks=(*device.networks, network.name),
        )


def _what(device: Device) -> str:
    if isinstance(device, Bridge):
        return f"a {device.kind.value} bridge on {', '.join(device.ports)}"
    return f"a {type(device).__name__.lower()}"


def _larger(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _propagate_mtu(devices: dict[str, Device]) -> None:
    """Each device at least as large an MTU as every device on top of it (a VLAN's link, a bond's members)."""
    changed = True
    while changed:
        changed = False
        for device in list(devices.values()):
            for name in device.lower:
                lower = devices[name]
                mtu = _larger(lower.mtu, device.mtu)
                if mtu != lower.mtu:
                    devices[name] = replace(lower, mtu=mtu)
                    changed = True


# Cluster settings of the reference whose interface layouts (BGP to the host, OVS bonds) are not rendered yet.
UNSUPPORTED_SETTINGS = ("bgp_to_the_host", "use_ovs_ifaces")


def build(view: ClusterView, member: Member, nics: Sequence[Nic]) -> HostNetwork:
    """The network of ``member`` (a machine of ``view``'s cluster) with the NICs it reported."""
    where = f"{member.hostname} ({member.role} in {member.location})"
    unsupported = [name for name in UNSUPPORTED_SETTINGS if view.cluster.setting(name) is True]
    if unsupported:  # refused rather than rendered as if unset: a host configured wrongly is worse than none
        raise InvalidInput(
            f"cluster {view.cluster.name}: {', '.join(unsupported)} is not supported by oci-netconf yet",
            hint=f"cluster-set {view.cluster.name} --{unsupported[0].replace('_', '-')} no",
        )
    mgmt = management_networks(view, member.role, member.location)
    if len(mgmt) != 1:
        found = ", ".join(n.name for n in mgmt) or "none"
        raise InvalidInput(
            f"{where}: exactly one management network is needed, found {found}",
            hint="see cluster-check: attach one non-special network for the role or for all",
        )
    management = mgmt[0]
    networks = [n for n in networks_of(view, member.role, member.location) if not n.public]
    networks.sort(key=lambda n: (n is not management, n.name))
    has_vm_net = any(n.role == NetworkRole.VM_NET.value for n in networks)
    ovs_agent = view.cluster.setting("neutron_l2_agent") != "linuxbridge"
    external = carries_external(view, member.role) and not has_vm_net and ovs_agent

    stack = _Devices(member.hostname, nics)
    for network in networks:
        link = stack.link(network)
        if network.role == NetworkRole.OVS_BRIDGE.value:
            if network.bridge_name is None:
                raise InvalidInput(
                    f"ovs-bridge network {network.name} has no bridge name", hint=f"network-set {network.name} --bridge-name br-NAME"
                )
            stack.bridge(network.bridge_name, link, BridgeKind.OVS)
            stack.configure(network.bridge_name, network, (), None)
            continue
        addresses = ipam.addresses_of(network, AllocationKind.MACHINE, member.serial)
        if not addresses:
            raise InvalidInput(f"{where} has no address on network {network.name}", hint="see cluster-check and machine-ip-list")
        holder = link
        if network.bridge_name is not None:
            holder = stack.bridge(network.bridge_name, link, BridgeKind.LINUX)
        elif network is management and external:
            holder = stack.bridge(EXTERNAL_BRIDGE, link, BridgeKind.OVS)
        stack.configure(holder, network, addresses, ipam.gateway(network) if network is management else None)
    _propagate_mtu(stack.devices)

    cluster = view.cluster
    servers = (cluster.setting("nameserver_v4_primary"), cluster.setting("nameserver_v4_secondary"))
    return HostNetwork(
        hostname=member.hostname,
        devices=tuple(stack.devices.values()),
        nameservers=tuple(IPv4Address(str(s)) for s in servers if s),
        search=(cluster.domain,),
    )
