"""Which networks a machine is on, and which of them give it an address (reference §5.3)."""

from __future__ import annotations

from ipaddress import IPv4Address

import pytest

from oci.model import Cluster, Network
from oci.placement import ClusterView, Member, addressed_networks, management_networks, network_roles_for, networks_of

CLUSTER = Cluster("cl1", "example.com")


def net(name, role, location="z1", public=False):
    third = sum(map(ord, name)) % 250
    return Network(name, IPv4Address(f"10.{third}.0.0"), 24, location, public, cluster="cl1", role=role, iface1="eth0")


NETS = [
    net("mgmt", "all"),
    net("mgmt-z2", "all", location="z2"),
    net("pub", "all", location="public", public=True),
    net("tunnels", "vm-net"),
    net("provider", "ovs-bridge"),
    net("replication", "ceph-cluster"),
    net("bmc", "ipmi"),
    net("vips", "vip"),
    net("storage", "swiftstore"),
]


def view(*roles):
    members = [Member(f"S{i}", "cl1", role, "z1", f"cl1-{role}-{i}.example.com") for i, role in enumerate(roles)]
    return ClusterView.build(CLUSTER, NETS, members)


@pytest.mark.parametrize(
    ("role", "has_network_nodes", "expected"),
    [
        ("compute", False, {"all", "compute", "vm-net", "ovs-bridge"}),
        ("network", True, {"all", "network", "vm-net", "ovs-bridge"}),
        ("cephosd", False, {"all", "cephosd", "ceph-cluster"}),
        ("controller", False, {"all", "controller", "vm-net", "ovs-bridge"}),
        ("controller", True, {"all", "controller"}),
        ("swiftstore", False, {"all", "swiftstore"}),
    ],
)
def test_network_roles(role, has_network_nodes, expected):
    assert network_roles_for(role, has_network_nodes) == expected


def test_location_and_kind_of_network_decide():
    v = view("compute")
    assert [n.name for n in networks_of(v, "compute", "z1")] == ["mgmt", "provider", "tunnels"]
    assert [n.name for n in addressed_networks(v, "compute", "z1")] == ["mgmt", "tunnels"]  # no address on ovs-bridge
    assert [n.name for n in management_networks(v, "compute", "z1")] == ["mgmt"]
    assert [n.name for n in addressed_networks(v, "compute", "z2")] == ["mgmt-z2"]


def test_controllers_carry_tunnels_only_without_network_nodes():
    assert "tunnels" in [n.name for n in addressed_networks(view("controller"), "controller", "z1")]
    assert "tunnels" not in [n.name for n in addressed_networks(view("controller", "network"), "controller", "z1")]


def test_special_pools_give_no_machine_address():
    for role in ("controller", "compute", "cephosd", "swiftstore", "messaging"):
        names = {n.name for n in addressed_networks(view(role), role, "z1")}
        assert not names & {"pub", "bmc", "vips", "provider"}


def test_role_network_and_all_network_are_two_management_networks():
    v = view("swiftstore")
    assert [n.name for n in management_networks(v, "swiftstore", "z1")] == ["mgmt", "storage"]
    assert [n.name for n in addressed_networks(v, "cephosd", "z1")] == ["mgmt", "replication"]
