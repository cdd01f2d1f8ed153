"""network-* commands."""

from __future__ import annotations

import argparse
from typing import Any

from oci.cli.backend import Backend
from oci.cli.common import command
from oci.cli.output import Column, Message, Record, Table

NETWORK_COLUMNS = [
    Column(k, h)
    for k, h in (
        ("name", "name"),
        ("address", "ip"),
        ("prefix", "cidr"),
        ("first_ip", "first_ip"),
        ("last_ip", "last_ip"),
        ("public", "is_public"),
        ("cluster", "cluster"),
        ("role", "role"),
        ("iface1", "iface1"),
        ("iface2", "iface2"),
        ("bridge_name", "bridgename"),
        ("vlan", "vlan"),
        ("mtu", "mtu"),
        ("location", "location"),
        ("addresses_used", "used"),
    )
]
SET_OPTIONS = (
    ("--role", "role", "ROLE", "role of the machines on it, or a special role"),
    ("--iface1", "iface1", "IFACE", "first interface"),
    ("--iface2", "iface2", "IFACE", "second interface (bond), or none"),
    ("--ip", "ip", "ADDRESS", "network address (only while no address is allocated)"),
    ("--cidr", "cidr", "PREFIX", "prefix length (only while no address is allocated)"),
    ("--is-public", "public", "yes|no", "public network (carries VIPs only)"),
    ("--mtu", "mtu", "MTU", "MTU, or 0 for the default"),
    ("--vlan", "vlan", "VLAN", "802.1Q VLAN id, or 0/none for untagged"),
    ("--location", "location", "LOCATION", "location of the network"),
    ("--bridge-name", "bridge_name", "NAME", "OVS bridge name (ovs-bridge networks)"),
    ("--first-ip", "first_ip", "ADDRESS", "narrow the usable range (with --last-ip)"),
    ("--last-ip", "last_ip", "ADDRESS", "narrow the usable range (with --first-ip)"),
    ("--ipmi-match", "ipmi_match", "CIDR", "ipmi networks: number the BMCs of machines reporting from CIDR (none: all)"),
)


def _create(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("network_create", name=args.name, ip=args.ip, cidr=args.cidr, location=args.location, public=args.public)
    return Message(f"network {args.name} created ({result['cidr']}, addresses {result['first_ip']}-{result['last_ip']})", data=result)


def _list(args: argparse.Namespace, backend: Backend) -> Table:
    return Table(backend.call("network_list"), NETWORK_COLUMNS)


def _show(args: argparse.Namespace, backend: Backend) -> Record:
    return Record(backend.call("network_show", name=args.name), order=("name", "cidr", "first_ip", "last_ip", "gateway", "cluster", "role"))


def _add(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("network_add", name=args.network, cluster=args.cluster, role=args.role, iface1=args.iface1, iface2=args.iface2)
    return Message(
        f"network {args.network} attached to {args.cluster} for {args.role} ({result['addresses_used']} address(es) allocated)", data=result
    )


def _remove(args: argparse.Namespace, backend: Backend) -> Message:
    return Message(f"network {args.network} detached", data=backend.call("network_remove", name=args.network))


def _delete(args: argparse.Namespace, backend: Backend) -> Message:
    return Message(f"network {args.name} deleted", data=backend.call("network_delete", name=args.name))


def _set(args: argparse.Namespace, backend: Backend) -> Record:
    changes = {dest: getattr(args, dest) for _, dest, _, _ in SET_OPTIONS if getattr(args, dest) is not None}
    return Record(backend.call("network_set", name=args.network, changes=changes))


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = command(sub, common, "network-create", _create, "create a network in a location")
    p.add_argument("name")
    p.add_argument("ip", help="network address, e.g. 192.168.101.0")
    p.add_argument("cidr", help="prefix length, 8 to 32")
    p.add_argument("location")
    p.add_argument("public", metavar="public", help="yes or no")
    command(sub, common, "network-list", _list, "list networks")
    p = command(sub, common, "network-show", _show, "show a network and its allocated addresses")
    p.add_argument("name")
    p = command(sub, common, "network-add", _add, "attach a network to a cluster for a role")
    p.add_argument("network")
    p.add_argument("cluster")
    p.add_argument("role", help="a machine role, or all, vm-net, ovs-bridge, ceph-cluster, ipmi, vip")
    p.add_argument("iface1", help="interface name or keyword (eth0, 10g1, ...)")
    p.add_argument("iface2", nargs="?", default=None, help="second interface for a bond; none or absent for one interface")
    p = command(sub, common, "network-remove", _remove, "detach a network from its cluster")
    p.add_argument("network")
    p = command(sub, common, "network-delete", _delete, "delete a network that is not attached")
    p.add_argument("name")
    p = command(sub, common, "network-set", _set, "change a network")
    p.add_argument("network")
    for flag, dest, metavar, text in SET_OPTIONS:
        p.add_argument(flag, dest=dest, metavar=metavar, default=None, help=text)
