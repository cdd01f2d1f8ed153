"""Networks: create, attach to a cluster for a role, change, detach, delete."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from oci import ipam, names, values
from oci.enc import refresh as enc
from oci.errors import Conflict, InvalidInput, NotFound
from oci.model import SPECIAL_ROLES, AllocationKind, Cluster, Location, Network, NetworkRole
from oci.placement import ClusterView
from oci.service.plan import plan_addresses
from oci.service.topology import role_exists
from oci.service.views import machine_views, members
from oci.store import Store


def parse_address(text: str, what: str = "address") -> IPv4Address:
    try:
        if type(text) is not str:  # IPv4Address() would take an int as the address's number
            raise ValueError
        return IPv4Address(text)
    except ValueError:
        raise InvalidInput(f"invalid {what} {_show(text)}: expected a dotted IPv4 address") from None


def parse_subnet(text: str) -> IPv4Network:
    try:
        if type(text) is not str:
            raise ValueError
        return IPv4Network(text)
    except ValueError:
        raise InvalidInput(f"invalid network {_show(text)}: expected a.b.c.d/n with no host bits set") from None


def parse_prefix(text: str | int) -> int:
    prefix = _integer(text)
    if prefix is None:
        raise InvalidInput(f"invalid prefix length {_show(text)}: expected a number from 8 to 32")
    if not 8 <= prefix <= 32:
        raise InvalidInput(f"invalid prefix length {prefix}: expected a number from 8 to 32")
    return prefix


def parse_yes_no(text: str, what: str) -> bool:
    if text not in ("yes", "no"):
        raise InvalidInput(f"invalid {what} {_show(text)}: expected yes or no")
    return text == "yes"


def describe(network: Network) -> dict[str, Any]:
    first, last = ipam.usable_range(network)
    gateway = ipam.gateway(network)
    return {
        "name": network.name,
        "address": str(network.address),
        "prefix": network.prefix,
        "cidr": network.cidr,
        "first_ip": str(first),
        "last_ip": str(last),
        "gateway": str(gateway) if gateway else None,
        "public": network.public,
        "location": network.location,
        "cluster": network.cluster,
        "role": network.role,
        "iface1": network.iface1,
        "iface2": network.iface2,
        "vlan": network.vlan,
        "mtu": network.mtu,
        "bridge_name": network.bridge_name,
        "ipmi_match": str(network.ipmi_match) if network.ipmi_match else None,
        "addresses_used": len(network.allocations),
        "addresses_total": ipam.capacity(network),
    }


def _check_overlap(store: Store, network: Network) -> None:
    other = ipam.overlapping(network, store.all(Network))
    if other is not None:
        raise Conflict(f"{network.cidr} overlaps network {other.name} ({other.cidr})", hint="an address must belong to one network only")


def create(store: Store, name: str, address: str, prefix: str | int, location: str, public: str) -> dict[str, Any]:
    names.network(name)
    names.location(location)
    net_address = parse_address(address, "network address")
    net_prefix = parse_prefix(prefix)
    network = Network(name, net_address, net_prefix, location, parse_yes_no(public, "public flag"))
    with store.topology_lock():
        if store.find(Network, name):
            raise Conflict(f"network '{name}' already exists")
        if not store.find(Location, location):
            raise NotFound(f"no location named '{location}'", hint="create it with location-create")
        _check_overlap(store, network)
        tx = store.transaction()
        tx.put(network)
        tx.commit()
    return describe(network)


def list_(store: Store) -> list[dict[str, Any]]:
    return [describe(n) for n in store.all(Network)]


def show(store: Store, name: str) -> dict[str, Any]:
    network = store.get(Network, names.network(name))
    out = describe(network)
    out["allocations"] = [{"address": str(a.address), "kind": a.kind.value, "owner": a.owner} for a in network.allocations]
    return out


def _machine_owners(network: Network) -> list[str]:
    return sorted({a.owner for a in network.allocations if a.kind is not AllocationKind.VIP})


def delete(store: Store, name: str) -> dict[str, Any]:
    names.network(name)
    with store.topology_lock():
        network = store.get(Network, name)
        if network.cluster is not None:
            raise Conflict(f"network '{name}' is attached to cluster {network.cluster}", hint=f"detach it first: network-remove {name}")
        if network.allocations:
            owners = _machine_owners(network)
            raise Conflict(
                f"network '{name}' carries {len(network.allocations)} address(es), of {', '.join(owners[:5]) or 'VIPs'}",
                hint="release them first (machine-set-ipmi ... no for BMC addresses)",
            )
        tx = store.transaction()
        tx.delete(Network, name)
        tx.commit()
    return {"name": name}


def _iface(value: str | None) -> str | None:
    if value is None or value == "none":
        return None
    return names.interface(value)


def _plan_and_commit(store: Store, cluster: Cluster, networks: list[Network], extra: list[Any]) -> None:
    """Allocate what the cluster now needs, then write ``extra`` objects and the changed networks at once."""
    view = ClusterView.build(cluster, networks, members(machine_views(store)))
    _, changed = plan_addresses(view)
    tx = store.transaction()
    for obj in extra:
        if not (isinstance(obj, Network) and obj.name in changed):
            tx.put(obj)
    for network in changed.values():
        tx.put(network)
    tx.commit()


@enc.follows
def add(store: Store, name: str, cluster_name: str, role: str, iface1: str, iface2: str | None = None) -> dict[str, Any]:
    """Attach a network to a cluster for a role, and give addresses to the machines that are now on it."""
    names.network(name)
    names.cluster(cluster_name)
    names.role(role)
    first_iface = _iface(iface1)
    if first_iface is None:
        raise InvalidInput("the first interface cannot be 'none'")
    second_iface = _iface(iface2)
    with store.topology_lock():
        network = store.get(Network, name)
        cluster = store.get(Cluster, cluster_name)
        if role not in SPECIAL_ROLES and not role_exists(store, role):
            raise NotFound(f"no role named '{role}'", hint="see role-list; special roles: " + ", ".join(sorted(SPECIAL_ROLES)))
        if network.cluster is not None:
            raise Conflict(f"network '{name}' is already attached to cluster {network.cluster} (role {network.role})")
        attached = replace(network, cluster=cluster_name, role=role, iface1=first_iface, iface2=second_iface)
        others = [n for n in store.all(Network) if n.name != name]
        _plan_and_commit(store, cluster, [*others, attached], [attached])
        return show(store, name)


@enc.follows
def remove(store: Store, name: str) -> dict[str, Any]:
    """Detach a network from its cluster. Refused while machines have addresses on it; VIPs are released."""
    names.network(name)
    with store.topology_lock():
        network = store.get(Network, name)
        if network.cluster is None:
            raise Conflict(f"network '{name}' is not attached to a cluster")
        owners = _machine_owners(network)
        if owners:
            shown = ", ".join(owners[:5]) + (f" and {len(owners) - 5} more" if len(owners) > 5 else "")
            raise Conflict(
                f"network '{name}' carries addresses of machines {shown}",
                hint="machine-remove them (or machine-ip-remove the addresses) first",
            )
        tx = store.transaction()
        tx.put(replace(network, cluster=None, role=None, iface1=None, iface2=None, allocations=()))
        tx.commit()
    return {"name": name}


SETTABLE = (
    "role",
    "iface1",
    "iface2",
    "ip",
    "cidr",
    "public",
    "mtu",
    "vlan",
    "location",
    "bridge_name",
    "first_ip",
    "last_ip",
    "ipmi_match",
)


@enc.follows
def set_(store: Store, name: str, changes: dict[str, str]) -> dict[str, Any]:
    """``network-set``: change attributes. Changes that would move existing addresses are refused."""
    names.network(name)
    unknown = set(changes) - set(SETTABLE)
    if unknown:
        raise InvalidInput(f"unknown network attribute(s): {', '.join(sorted(unknown))}")
    if not changes:
        raise InvalidInput("nothing to change", hint="give at least one option, see network-set --help")
    with store.topology_lock():
        network = store.get(Network, name)
        updated = network
        layout_change = {"ip", "cidr", "location", "role"} & set(changes)
        if layout_change and _machine_owners(network):
            raise Conflict(
                f"cannot change {', '.join(sorted(layout_change))} of network '{name}': machines have addresses on it",
                hint="machine-remove them first",
            )
        if "role" in changes:
            role = names.role(changes["role"])
            if network.cluster is None and role != NetworkRole.IPMI.value:
                raise Conflict(f"network '{name}' is not attached: give its role with network-add (only ipmi needs no cluster)")
            if role not in SPECIAL_ROLES and not role_exists(store, role):
                raise NotFound(f"no role named '{role}'")
            updated = replace(updated, role=role)
        if "iface1" in changes:
            first = _iface(changes["iface1"])
            if first is None:
                raise InvalidInput("the first interface cannot be 'none'")
            updated = replace(updated, iface1=first)
        if "iface2" in changes:
            updated = replace(updated, iface2=_iface(changes["iface2"]))
        if "ip" in changes or "cidr" in changes:
            address = parse_address(changes["ip"], "network address") if "ip" in changes else network.address
            prefix = parse_prefix(changes["cidr"]) if "cidr" in changes else network.prefix
            if network.allocations:
                raise Conflict(f"cannot renumber network '{name}': it has {len(network.allocations)} allocated addresses")
            updated = replace(updated, address=address, prefix=prefix, range_first=None, range_last=None)
        if "public" in changes:
            updated = replace(updated, public=parse_yes_no(changes["public"], "public flag"))
        if "mtu" in changes:
            updated = replace(updated, mtu=_optional_int(changes["mtu"], "MTU"))
        if "vlan" in changes:
            updated = replace(updated, vlan=_optional_int(changes["vlan"], "VLAN"))
        if "location" in changes:
            location = names.location(changes["location"])
            store.get(Location, location)
            updated = replace(updated, location=location)
        if "bridge_name" in changes:
            updated = replace(updated, bridge_name=names.interface(changes["bridge_name"]) if changes["bridge_name"] != "none" else None)
        if "ipmi_match" in changes:
            updated = replace(updated, ipmi_match=None if changes["ipmi_match"] == "none" else parse_subnet(changes["ipmi_match"]))
        if ("first_ip" in changes) != ("last_ip" in changes):
            raise InvalidInput("--first-ip and --last-ip go together")
        if "first_ip" in changes:
            first_ip = parse_address(changes["first_ip"], "first address")
            last_ip = parse_address(changes["last_ip"], "last address")
            ipam.check_range(updated, first_ip, last_ip)
            outside = [a for a in updated.allocations if not first_ip <= a.address <= last_ip]
            if outside:
                raise Conflict(f"{outside[0].address} ({outside[0].kind.value} {outside[0].owner}) would fall outside the new range")
            updated = replace(updated, range_first=first_ip, range_last=last_ip)
        if "ip" in changes or "cidr" in changes:
            _check_overlap(store, updated)
        if updated.cluster is not None and updated.role != NetworkRole.IPMI.value:
            cluster = store.get(Cluster, updated.cluster)
            others = [n for n in store.all(Network) if n.name != name]
            _plan_and_commit(store, cluster, [*others, updated], [updated])
        else:
            tx = store.transaction()
            tx.put(updated)
            tx.commit()
        return show(store, name)


def _integer(value: object) -> int | None:
    """An int, or ASCII digits (a JSON client may send either); None for anything else (floats included)."""
    if type(value) is int:
        return value
    return values.integer(value) if type(value) is str else None


def _show(value: object) -> str:
    shown = ascii(value) if type(value) is not int or abs(value) < 10**40 else "a huge integer"
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _optional_int(text: object, what: str) -> int | None:
    if text in ("0", "none", "null", "off", 0):
        return None
    number = _integer(text)
    if number is None:
        raise InvalidInput(f"invalid {what} {_show(text)}: expected a number, or none")
    return number
