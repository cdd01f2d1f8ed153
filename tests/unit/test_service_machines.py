"""machine-add and friends: hostnames, addresses, VIPs, refusals."""

from __future__ import annotations

import itertools
import random
from ipaddress import IPv4Address

import pytest

from oci.errors import Conflict, InvalidInput, NotFound
from oci.model import Machine
from oci.service import clusters, machines, networks, topology


@pytest.fixture
def site(store):
    topology.region_create(store, "datacenter-1")
    for loc in ("dc1-zone1", "dc1-zone2", "public"):
        topology.location_create(store, loc, "datacenter-1")
    networks.create(store, "dc1-net1", "192.168.101.0", "24", "dc1-zone1", "no")
    networks.create(store, "dc1-net2", "192.168.102.0", "24", "dc1-zone2", "no")
    networks.create(store, "pubnet1", "203.0.113.0", "28", "public", "yes")
    networks.create(store, "vipnet", "192.168.110.0", "24", "dc1-zone1", "no")
    networks.create(store, "vmnet1", "192.168.120.0", "24", "dc1-zone1", "no")
    clusters.create(store, "swift01", "example.com")
    return store


def attach_all(store):
    networks.add(store, "dc1-net1", "swift01", "all", "eth0")
    networks.add(store, "dc1-net2", "swift01", "all", "eth0")
    networks.add(store, "pubnet1", "swift01", "all", "eth0")


def test_demo_enrolment(site, discover):
    attach_all(site)
    for serial in ("C1", "C2", "C4", "C7"):
        discover(serial)
    assert machines.add(site, "C1", "swift01", "controller", "dc1-zone1")["hostname"] == "swift01-controller-1.example.com"
    r = machines.add(site, "C2", "swift01", "controller", "dc1-zone2")
    assert r["hostname"] == "swift01-controller-2.example.com"
    assert r["addresses"] == [{"network": "dc1-net2", "address": "192.168.102.2"}]
    assert machines.add(site, "C4", "swift01", "swiftproxy", "dc1-zone1")["addresses"][0]["address"] == "192.168.101.3"
    assert machines.add(site, "C7", "swift01", "swiftstore", "dc1-zone1")["hostname"] == "swift01-swiftstore-1.example.com"
    shown = clusters.show(site, "swift01")
    assert shown["vips"] == {"api": {"network": "pubnet1", "address": "203.0.113.2"}}
    assert shown["first_master"] == "C1"
    assert shown["problems"] == []


def test_machine_must_be_live_and_free(site, discover):
    attach_all(site)
    with pytest.raises(NotFound, match="no machine named 'C9'"):
        machines.add(site, "C9", "swift01", "controller", "dc1-zone1")
    discover("C1")
    machines.add(site, "C1", "swift01", "controller", "dc1-zone1")
    with pytest.raises(Conflict, match="already enrolled as swift01-controller-1"):
        machines.add(site, "C1", "swift01", "compute", "dc1-zone1")
    with pytest.raises(NotFound, match="no role named 'nope'"):
        machines.add(site, "C1", "swift01", "nope", "dc1-zone1")


def test_counters_never_go_down(site, discover):
    attach_all(site)
    discover("C1")
    discover("C2")
    machines.add(site, "C1", "swift01", "compute", "dc1-zone1")
    machines.remove(site, "C1")
    assert machines.add(site, "C2", "swift01", "compute", "dc1-zone1")["hostname"] == "swift01-compute-2.example.com"
    assert machines.add(site, "C1", "swift01", "compute", "dc1-zone1")["hostname"] == "swift01-compute-3.example.com"


def test_remove_releases_addresses_and_reelects_first_master(site, discover):
    attach_all(site)
    for s in ("C1", "C2", "C3"):
        discover(s)
        machines.add(site, s, "swift01", "controller", "dc1-zone1")
    machines.remove(site, "swift01-controller-1.example.com")  # by hostname
    assert clusters.show(site, "swift01")["first_master"] == "C2"
    assert machines.ip_list(site, "C1") == []
    discover("C4")
    assert machines.add(site, "C4", "swift01", "compute", "dc1-zone1")["addresses"][0]["address"] == "192.168.101.2"


def test_fixed_ip_goes_to_the_management_network_only(site, discover):
    attach_all(site)
    networks.add(site, "vmnet1", "swift01", "vm-net", "eth1")
    discover("C1")
    r = machines.add(site, "C1", "swift01", "compute", "dc1-zone1", fixed_ip="192.168.101.77")
    assert sorted((a["network"], a["address"]) for a in r["addresses"]) == [("dc1-net1", "192.168.101.77"), ("vmnet1", "192.168.120.2")]
    discover("C2")
    with pytest.raises(Conflict, match="already in use"):
        machines.add(site, "C2", "swift01", "compute", "dc1-zone1", fixed_ip="192.168.101.77")
    with pytest.raises(InvalidInput, match="belongs to network vmnet1"):
        machines.add(site, "C2", "swift01", "compute", "dc1-zone1", fixed_ip="192.168.120.50")
    assert site.get(Machine, "C2").enrolment is None  # nothing changed


def test_full_network_changes_nothing(site, discover):
    networks.create(site, "tiny", "10.1.0.0", "30", "dc1-zone1", "no")
    networks.add(site, "tiny", "swift01", "all", "eth0")
    for s in ("C1", "C2", "C3"):
        discover(s)
    machines.add(site, "C1", "swift01", "compute", "dc1-zone1")
    machines.add(site, "C2", "swift01", "compute", "dc1-zone1")
    counters = clusters.show(site, "swift01")["role_counters"]
    with pytest.raises(Conflict, match="no free address on network tiny"):
        machines.add(site, "C3", "swift01", "compute", "dc1-zone1")
    assert clusters.show(site, "swift01")["role_counters"] == counters
    assert site.get(Machine, "C3").enrolment is None


def test_network_add_gives_addresses_to_existing_machines(site, discover):
    discover("C1")
    discover("C2")
    networks.add(site, "dc1-net1", "swift01", "all", "eth0")
    machines.add(site, "C1", "swift01", "compute", "dc1-zone1")
    machines.add(site, "C2", "swift01", "cephosd", "dc1-zone1")
    networks.add(site, "vmnet1", "swift01", "vm-net", "eth1")
    assert [a["address"] for a in machines.ip_list(site, "C1")] == ["192.168.101.2", "192.168.120.2"]
    assert [a["address"] for a in machines.ip_list(site, "C2")] == ["192.168.101.3"]  # cephosd is not on vm-net


def test_network_remove_and_destroy_are_refused_while_in_use(site, discover):
    attach_all(site)
    discover("C1")
    machines.add(site, "C1", "swift01", "controller", "dc1-zone1")
    with pytest.raises(Conflict, match="carries addresses of machines C1"):
        networks.remove(site, "dc1-net1")
    with pytest.raises(Conflict, match="enrolled in cluster swift01") as err:
        machines.destroy(site, "C1")
    assert err.value.hint == "machine-remove C1 first"
    with pytest.raises(Conflict, match="still has 1 machine"):
        clusters.delete(site, "swift01")
    topology.location_create(site, "dc2", "datacenter-1")
    discover("C2")
    machines.add(site, "C2", "swift01", "compute", "dc2")  # a location without network: allowed, and reported
    with pytest.raises(Conflict, match="used by machine C2"):
        topology.location_delete(site, "dc2")
    assert any("C2) has no management network" in p for p in clusters.check(site, "swift01"))


def test_destroy_forgets_the_machine(site, discover):
    discover("C1")
    machines.destroy(site, "C1")
    assert site.find(Machine, "C1") is None
    assert site.heartbeat("C1") is None


def test_hostname_override(site, discover):
    attach_all(site)
    discover("C1")
    discover("C2")
    machines.add(site, "C1", "swift01", "controller", "dc1-zone1")
    machines.set_(site, "C1", {}, [], hostname="api1.example.com")
    assert site.get(Machine, "C1").enrolment.hostname == "api1.example.com"
    machines.add(site, "C2", "swift01", "controller", "dc1-zone1")
    with pytest.raises(Conflict, match="already used by machine C2"):
        machines.set_(site, "C1", {}, [], hostname="swift01-controller-2.example.com")


def test_machine_ip_add_and_remove(site, discover):
    attach_all(site)
    discover("C1")
    discover("C2")
    machines.add(site, "C1", "swift01", "controller", "dc1-zone1")
    machines.add(site, "C2", "swift01", "controller", "dc1-zone1")
    machines.ip_add(site, "C1", "dc1-net1", "192.168.101.100")
    with pytest.raises(Conflict, match="already in use"):
        machines.ip_add(site, "C2", "dc1-net1", "192.168.101.100")
    with pytest.raises(Conflict, match="not to machine C2"):
        machines.ip_remove(site, "C2", "192.168.101.100")
    machines.ip_remove(site, "C1", "192.168.101.100")
    with pytest.raises(NotFound):
        machines.ip_remove(site, "C1", "192.168.101.100")


STEPS = ["net:dc1-net1", "net:pubnet1", "net:vipnet", "m:C1:controller", "m:C2:sql", "m:C3:messaging", "m:C4:compute"]


@pytest.mark.parametrize("seed", range(12))
def test_vips_do_not_depend_on_the_order_of_commands(store, discover, seed):
    """The reference's defect 21: SQL and messaging VIPs exist whatever the order."""
    topology.region_create(store, "r")
    topology.location_create(store, "dc1-zone1", "r")
    topology.location_create(store, "public", "r")
    networks.create(store, "dc1-net1", "192.168.101.0", "24", "dc1-zone1", "no")
    networks.create(store, "pubnet1", "203.0.113.0", "28", "public", "yes")
    networks.create(store, "vipnet", "192.168.110.0", "24", "dc1-zone1", "no")
    clusters.create(store, "cl1", "example.com")
    steps = list(STEPS)
    random.Random(seed).shuffle(steps)
    for step in steps:
        kind, *rest = step.split(":")
        if kind == "net":
            networks.add(store, rest[0], "cl1", "vip" if rest[0] == "vipnet" else "all", "eth0")
        else:
            discover(rest[0])
            machines.add(store, rest[0], "cl1", rest[1], "dc1-zone1")
    shown = clusters.show(store, "cl1")
    assert set(shown["vips"]) == {"api", "sql", "messaging"}
    assert shown["problems"] == []
    every = [r["address"] for r in clusters.show_ips(store, "cl1")]
    assert len(every) == len(set(every))


def test_missing_pieces_are_said_plainly(site, discover):
    assert clusters.check(site, "swift01")[:2] == [
        "no controller: every OpenStack cluster needs at least one (machine-add <serial> <cluster> controller <location>)",
        "no public network is attached with role controller or all: the API VIP needs one",
    ]
    networks.add(site, "dc1-net1", "swift01", "all", "eth0")
    discover("C3")
    machines.add(site, "C3", "swift01", "messaging", "dc1-zone1")
    assert "messaging nodes need a network attached with role vip for the messaging VIP" in clusters.check(site, "swift01")


def test_addresses_are_never_shared(site, discover):
    attach_all(site)
    networks.add(site, "vmnet1", "swift01", "vm-net", "eth1")
    roles = itertools.cycle(["controller", "compute", "network", "cephosd", "swiftstore"])
    for i in range(30):
        serial = f"S{i:03d}"
        discover(serial)
        machines.add(site, serial, "swift01", next(roles), "dc1-zone1" if i % 2 else "dc1-zone2")
    every = [IPv4Address(r["address"]) for r in clusters.show_ips(site, "swift01")]
    assert len(every) == len(set(every))
