"""ifupdown's ``/etc/network/interfaces`` (ENI) from a ``HostNetwork``: a pure function, same model, same bytes.

Two files: ``etc/network/interfaces`` holds the loopback and sources ``interfaces.d`` (a relative path, which
ifupdown resolves against the including file's folder, so the tree also parses where it was rendered), and
``etc/network/interfaces.d/oci`` holds the host's devices. ``source-directory`` reads only files whose name
is made of letters, digits, ``_`` and ``-``, so editor backups and ``.dpkg-old`` files are left out.

Stanzas come in dependency order, then name order: NICs, bonds, VLANs, Linux bridges, Open vSwitch bridges,
so ``ifup -a`` creates each device before the devices on top of it. Needs, on the installed system:
``ifenslave`` (``bond-*``), ``bridge-utils`` (``bridge_*``), ``openvswitch-switch`` (``ovs_*``), and
``resolvconf`` or ``systemd-resolved`` for the ``dns-*`` lines to take effect. Bond members get no stanza:
ifenslave brings up the NICs a bond lists in ``bond-slaves``.
"""

from __future__ import annotations

from dataclasses import dataclass

from oci.naming import natural_key
from oci.netconf.model import Bond, Bridge, BridgeKind, Device, HostNetwork, Physical, Vlan
from oci.templates import Templates, shipped

INTERFACES = "etc/network/interfaces"
HOST_FILE = "etc/network/interfaces.d/oci"
INTERFACES_TEMPLATE = "interfaces.j2"
HOST_TEMPLATE = "interfaces.d-oci.j2"


@dataclass(frozen=True)
class BondMember:
    """A NIC in a bond: it gets no stanza, only a comment saying where it is."""

    name: str
    mac: str
    bond: str


@dataclass(frozen=True)
class Stanza:
    """One device as the template lays it out; every choice (method, options, their order) is made here."""

    name: str
    comments: tuple[str, ...]
    starts: tuple[str, ...]  # the words that bring it up: "auto", "allow-ovs", "allow-<bridge>"
    method: str  # "static" or "manual"
    options: tuple[str, ...]
    more_addresses: tuple[str, ...]  # one "iface ... inet static" each: ifupdown adds each with its own "ip addr add"


def _kind_options(device: Device) -> list[str]:
    if isinstance(device, Bond):
        return [
            f"bond-slaves {' '.join(device.members)}",
            f"bond-mode {device.mode}",
            f"bond-miimon {device.miimon}",
            f"bond-lacp-rate {device.lacp_rate}",
            f"bond-xmit-hash-policy {device.hash_policy}",
        ]
    if isinstance(device, Vlan):
        return [f"vlan-raw-device {device.link}"]  # the name <link>.<id> says it already; explicit for readers
    if isinstance(device, Bridge) and device.kind is BridgeKind.LINUX:
        return [f"bridge_ports {' '.join(device.ports)}", "bridge_stp off", "bridge_fd 0", "bridge_maxwait 0"]
    if isinstance(device, Bridge):
        return ["ovs_type OVSBridge", f"ovs_ports {' '.join(device.ports)}"]
    return []


def _stanza(net: HostNetwork, device: Device) -> Stanza:
    master = net.master_of(device.name)
    ovs_port = isinstance(master, Bridge) and master.kind is BridgeKind.OVS
    comments = []
    if isinstance(device, Physical):
        speed = f", {device.speed_mbps} Mb/s" if device.speed_mbps else ""
        comments.append(f"{device.name}: {device.mac}{speed}")
    if device.networks:
        comments.append(f"network{'s' if len(device.networks) > 1 else ''} {', '.join(device.networks)}")
    if ovs_port:
        assert master is not None
        starts = [f"allow-{master.name}"]  # brought up by its bridge (ovs_ports)
    else:
        starts = ["auto"]
        if isinstance(device, Bridge) and device.kind is BridgeKind.OVS:
            starts.append("allow-ovs")
    first, *more = device.addresses or (None,)
    options = []
    if first is not None:
        options.append(f"address {first.with_prefixlen}")
    if device.gateway is not None:
        options.append(f"gateway {device.gateway}")
        if net.nameservers:
            options.append(f"dns-nameservers {' '.join(map(str, net.nameservers))}")
        if net.search:
            options.append(f"dns-search {' '.join(net.search)}")
    if device.mtu is not None:
        options.append(f"mtu {device.mtu}")
    options += _kind_options(device)
    if ovs_port:
        assert master is not None
        options += [f"ovs_bridge {master.name}", "ovs_type OVSPort"]
    for route in device.routes:
        options.append(f"up ip route replace {route.destination} via {route.via} dev {device.name}")
    return Stanza(
        name=device.name,
        comments=tuple(comments),
        starts=tuple(starts),
        method="static" if first else "manual",
        options=tuple(options),
        more_addresses=tuple(extra.with_prefixlen for extra in more if extra is not None),
    )


def render(net: HostNetwork, templates: Templates | None = None) -> dict[str, str]:
    """Relative path -> content of every file of the host's ifupdown configuration."""
    members = []
    for bond in sorted(net.of_kind(Bond), key=lambda b: natural_key(b.name)):  # members have no stanza: say which NIC is where
        for name in bond.members:
            nic = net.device(name)
            members.append(BondMember(name, nic.mac if isinstance(nic, Physical) else "?", bond.name))
    in_a_bond = {m.name for m in members}
    stanzas = [_stanza(net, device) for device in net.in_order() if device.name not in in_a_bond]
    chosen = templates or shipped()
    return {
        INTERFACES: chosen.render(INTERFACES_TEMPLATE, {"hostname": net.hostname}),
        HOST_FILE: chosen.render(HOST_TEMPLATE, {"hostname": net.hostname, "bond_members": members, "stanzas": stanzas}),
    }
