"""Regions, locations, roles, networks and clusters: creation, refusals, deletion of things in use."""

from __future__ import annotations

import pytest

from oci.errors import Conflict, InvalidInput, InvalidName, NotFound
from oci.service import clusters, machines, networks, topology


@pytest.fixture
def base(store):
    topology.region_create(store, "datacenter-1")
    topology.location_create(store, "dc1-zone1", "datacenter-1")
    topology.location_create(store, "public", "datacenter-1")
    networks.create(store, "dc1-net1", "192.168.101.0", "24", "dc1-zone1", "no")
    networks.create(store, "pubnet1", "203.0.113.0", "28", "public", "yes")
    clusters.create(store, "swift01", "example.com")
    return store


def test_duplicates_are_refused(base):
    with pytest.raises(Conflict, match="already exists"):
        topology.region_create(base, "datacenter-1")
    with pytest.raises(Conflict, match="already exists"):
        clusters.create(base, "swift01", "example.org")
    with pytest.raises(Conflict, match="already exists"):
        networks.create(base, "dc1-net1", "10.0.0.0", "24", "dc1-zone1", "no")


def test_location_needs_an_existing_region(store):
    with pytest.raises(NotFound, match="no swift region named 'nope'"):
        topology.location_create(store, "loc", "nope")


def test_network_input_is_checked(base):
    with pytest.raises(InvalidInput, match="not a network address"):
        networks.create(base, "n2", "10.0.0.1", "24", "dc1-zone1", "no")
    with pytest.raises(InvalidInput, match="prefix length"):
        networks.create(base, "n2", "10.0.0.0", "33", "dc1-zone1", "no")
    with pytest.raises(InvalidInput, match="yes or no"):
        networks.create(base, "n2", "10.0.0.0", "24", "dc1-zone1", "maybe")
    with pytest.raises(Conflict, match="overlaps network dc1-net1"):
        networks.create(base, "n2", "192.168.0.0", "16", "dc1-zone1", "no")


def test_deleting_what_is_in_use_names_the_user(base):
    with pytest.raises(Conflict, match="used by location dc1-zone1, public"):
        topology.region_delete(base, "datacenter-1")
    with pytest.raises(Conflict, match="used by network dc1-net1"):
        topology.location_delete(base, "dc1-zone1")
    networks.add(base, "dc1-net1", "swift01", "all", "eth0")
    with pytest.raises(Conflict, match="attached to cluster swift01"):
        networks.delete(base, "dc1-net1")
    with pytest.raises(Conflict, match="still has network"):
        clusters.delete(base, "swift01")


def test_roles(base):
    assert {"name": "controller", "builtin": True} in topology.role_list(base)
    with pytest.raises(InvalidInput, match="reserved"):
        topology.role_create(base, "vm-net")
    topology.role_create(base, "custom1")
    with pytest.raises(Conflict, match="built in"):
        topology.role_delete(base, "compute")
    networks.add(base, "dc1-net1", "swift01", "custom1", "eth0", "eth1")
    with pytest.raises(Conflict, match="used by network dc1-net1"):
        topology.role_delete(base, "custom1")


def test_network_add_twice_is_refused(base):
    networks.add(base, "dc1-net1", "swift01", "all", "eth0", "none")
    with pytest.raises(Conflict, match="already attached to cluster swift01"):
        networks.add(base, "dc1-net1", "swift01", "controller", "eth0")


def test_network_add_single_interface_works(base):
    result = networks.add(base, "dc1-net1", "swift01", "all", "eth0")
    assert (result["iface1"], result["iface2"]) == ("eth0", None)
    result = networks.add(base, "pubnet1", "swift01", "all", "eth0", "eth1")
    assert (result["iface1"], result["iface2"]) == ("eth0", "eth1")


def test_hostile_names_change_nothing(base):
    before = sorted(p.relative_to(base.root) for p in base.root.rglob("*") if "locks" not in p.parts)
    for bad in ("../x", "a/b", "x" * 300, "", "a\x00b"):
        with pytest.raises((InvalidName, InvalidInput, NotFound)):
            clusters.create(base, bad, "example.com")
        with pytest.raises((InvalidName, InvalidInput, NotFound)):
            networks.create(base, bad, "10.9.0.0", "24", "dc1-zone1", "no")
        with pytest.raises((InvalidName, InvalidInput, NotFound)):
            machines.add(base, bad, "swift01", "controller", "dc1-zone1")
        with pytest.raises((InvalidName, InvalidInput, NotFound)):
            topology.location_create(base, bad, "datacenter-1")
    after = sorted(p.relative_to(base.root) for p in base.root.rglob("*") if "locks" not in p.parts)
    assert after == before
    assert not (base.root.parent / "x.yaml").exists()


def test_network_set(base):
    networks.add(base, "dc1-net1", "swift01", "all", "eth0")
    shown = networks.set_(base, "dc1-net1", {"mtu": "9000", "vlan": "101", "first_ip": "192.168.101.10", "last_ip": "192.168.101.20"})
    assert (shown["mtu"], shown["vlan"], shown["first_ip"], shown["last_ip"]) == (9000, 101, "192.168.101.10", "192.168.101.20")
    with pytest.raises(InvalidInput, match="go together"):
        networks.set_(base, "dc1-net1", {"first_ip": "192.168.101.10"})
    with pytest.raises(InvalidInput, match="VLAN"):
        networks.set_(base, "dc1-net1", {"vlan": "5000"})
    with pytest.raises(InvalidInput, match="nothing to change"):
        networks.set_(base, "dc1-net1", {})
