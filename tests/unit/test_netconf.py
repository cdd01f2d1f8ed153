"""netconf: golden file trees for the cluster shapes of issue #9, keyword resolution, and the errors.

Each case of ``CASES`` builds a cluster through the service layer, renders one machine's files under a
temporary target and compares the tree with tests/data/golden/netconf/<case>/ file by file. To add a case,
add an entry, run ``OCI_UPDATE_GOLDEN=1 PYTHONPATH=lib .venv/bin/python -m pytest tests/unit/test_netconf.py``
and review the new files (tests/integration/test_netconf_ifupdown.py parses them all with ifquery).
"""

from __future__ import annotations

import json
import os
import shutil
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from oci.config import Config
from oci.errors import InvalidInput, NotFound
from oci.model.hardware import Nic
from oci.netconf import eni, nics, service
from oci.netconf.model import Bond, Bridge, HostNetwork, Physical, Route, Vlan
from oci.netconf.target import target_path, write_tree
from oci.run import run
from oci.service import clusters, machines, networks, topology

GOLDEN = REPO / "tests" / "data" / "golden" / "netconf"

# Two 1G NICs on the board, two 25G ports on a card: 1g1/1g2 and 10g1/10g2 in the reference's keywords.
NICS = [
    {"name": "eno1", "mac": "52:54:00:00:00:01", "speed_mbps": 1000},
    {"name": "eno2", "mac": "52:54:00:00:00:02", "speed_mbps": 1000},
    {"name": "ens1f0", "mac": "52:54:00:00:01:00", "speed_mbps": 25000},
    {"name": "ens1f1", "mac": "52:54:00:00:01:01", "speed_mbps": 25000},
]
MGMT = ("mgmt", "192.168.10.0", 24, "all")
BOND = {"iface1": "10g1", "iface2": "10g2"}


def net(name: str, address: str, prefix: int, role: str, iface1: str = "1g1", iface2: str | None = None, **settings: Any) -> dict[str, Any]:
    return {"name": name, "address": address, "prefix": prefix, "role": role, "iface1": iface1, "iface2": iface2, "settings": settings}


# case -> (networks, roles enrolled in this order, the role of the machine rendered: its first machine)
CASES: dict[str, tuple[list[dict[str, Any]], list[str], str]] = {
    "single-nic": ([net(*MGMT)], ["controller"], "controller"),
    "bond": ([net(*MGMT, **BOND)], ["controller"], "controller"),
    "bond-vlan": ([net(*MGMT, **BOND, vlan="100")], ["controller"], "controller"),
    "vlan-single-nic": ([net(*MGMT, vlan="100")], ["controller"], "controller"),
    "bridge": ([net(*MGMT, bridge_name="br-mgmt")], ["controller"], "controller"),
    "bond-vlan-bridge": ([net(*MGMT, **BOND, vlan="100", bridge_name="br-mgmt", mtu="9000")], ["controller"], "controller"),
    "mtu": ([net(*MGMT, mtu="9000")], ["controller"], "controller"),
    "two-networks-one-bond": (
        [net(*MGMT, **BOND), net("tunnels", "10.20.0.0", 24, "vm-net", **BOND, vlan="20", mtu="9000")],
        ["controller", "network", "compute"],
        "compute",
    ),
    "ovs-br-ex": ([net(*MGMT, **BOND)], ["controller", "network", "compute"], "compute"),
    "ovs-br-ex-controller": ([net(*MGMT)], ["controller", "compute"], "controller"),
    "vm-net": (
        [
            net(*MGMT),
            net("tunnels", "10.20.0.0", 24, "vm-net", **BOND, vlan="30", mtu="9000"),
            net("provider", "10.30.0.0", 24, "ovs-bridge", "1g2", bridge_name="br-prov"),
        ],
        ["controller", "network", "compute"],
        "compute",
    ),
    "ceph-cluster": (
        [net(*MGMT), net("ceph", "10.40.0.0", 24, "ceph-cluster", **BOND, vlan="40", mtu="9000")],
        ["controller", "cephmon", "cephosd"],
        "cephosd",
    ),
}


def build(store, discover, case: str | tuple[list[dict[str, Any]], list[str], str]) -> str:
    """The state of ``case`` (a name of CASES, or such an entry); returns the serial of the machine to render."""
    specs, roles, rendered = CASES[case] if isinstance(case, str) else case
    topology.region_create(store, "r1")
    topology.location_create(store, "loc1", "r1")
    clusters.create(store, "cl1", "example.com")
    networks.create(store, "pub", "203.0.113.0", "28", "loc1", "yes")
    networks.add(store, "pub", "cl1", "all", "eno1")
    for spec in specs:
        networks.create(store, spec["name"], spec["address"], str(spec["prefix"]), "loc1", "no")
        networks.add(store, spec["name"], "cl1", spec["role"], spec["iface1"], spec["iface2"])
        if spec["settings"]:
            networks.set_(store, spec["name"], spec["settings"])
    serials = []
    for i, role in enumerate(roles):
        serial = f"NC{i:02d}"
        discover(serial, address=f"192.168.100.{i + 10}", nics=NICS)
        machines.add(store, serial, "cl1", role, "loc1")
        serials.append(serial)
    return serials[roles.index(rendered)]


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_trees(store, discover, tmp_path, case):
    store.config = Config(state_dir=store.root, master_address=IPv4Address("192.168.100.1"))  # [network] oci_ip
    serial = build(store, discover, case)
    target = tmp_path / "target"
    target.mkdir()
    write_tree(target, service.plan(store, serial).files)
    folder = GOLDEN / case
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(target, folder)
    assert tree(target) == tree(folder)


def test_rendering_is_deterministic(store, discover):
    serial = build(store, discover, "vm-net")
    assert service.plan(store, serial).files == service.plan(store, serial).files


def test_with_the_linuxbridge_agent_the_management_address_stays_on_the_nic(store, discover):
    """The agent bridges the NIC itself (a Linux bridge cannot be a port of another): no br-ex, no OVS."""
    store.config = Config(state_dir=store.root, master_address=IPv4Address("192.168.100.1"))
    serial = build(store, discover, "ovs-br-ex-controller")
    clusters.set_(store, "cl1", {"neutron_l2_agent": "linuxbridge"}, [])
    devices = service.plan(store, serial).files["etc/network/interfaces.d/oci"]
    assert "br-ex" not in devices and "ovs_" not in devices
    assert "auto eno1\niface eno1 inet static\n    address 192.168.10.2/24\n    gateway 192.168.10.1\n" in devices


# ------------------------------------------------------------------------------------ interface names


def nic_list(*specs: tuple[str, int | None]) -> list[Nic]:
    return [Nic(name, f"52:54:00:00:00:{i:02x}", speed) for i, (name, speed) in enumerate(specs)]


def test_keywords_pick_the_nth_nic_of_a_speed_in_name_order():
    found = nic_list(("eth10", 10000), ("eth2", 1000), ("eth9", 40000), ("eth1", 1000), ("eth3", 100), ("eth4", None))
    assert nics.resolve("1g1", found, "t").name == "eth1"
    assert nics.resolve("1g2", found, "t").name == "eth2"
    assert nics.resolve("10g1", found, "t").name == "eth9"  # natural order: eth9 before eth10; 40G counts as 10g
    assert nics.resolve("10g2", found, "t").name == "eth10"
    assert nics.resolve("100m1", found, "t").name == "eth3"
    assert nics.resolve("eth4", found, "t").name == "eth4"


def test_any_reported_name_is_accepted():
    assert nics.resolve("enp129s0f1np1", nic_list(("enp129s0f1np1", 25000)), "t").name == "enp129s0f1np1"


@pytest.mark.parametrize(
    ("name", "message"),
    [("eth7", "no NIC named 'eth7'"), ("10g3", "'10g3' is NIC number 3 at >= 10000 Mb/s, but the machine has 2 such NICs")],
)
def test_unknown_names_are_errors_that_list_the_nics(name, message):
    with pytest.raises(InvalidInput) as caught:
        nics.resolve(name, nic_list(("eno1", 1000), ("ens1f0", 25000), ("ens1f1", 25000)), "cl1-compute-1, network mgmt")
    assert message in caught.value.message
    assert caught.value.hint == "reported NICs: eno1 (1000 Mb/s), ens1f0 (25000 Mb/s), ens1f1 (25000 Mb/s)"


# ------------------------------------------------------------------------------------------ errors


def test_a_network_on_a_missing_nic_is_an_error_and_nothing_is_written(store, discover, tmp_path):
    serial = build(store, discover, "single-nic")
    networks.set_(store, "mgmt", {"iface1": "eth5"})
    with pytest.raises(InvalidInput, match="no NIC named 'eth5'"):
        service.plan(store, serial)


def test_a_nic_both_alone_and_in_a_bond_is_refused(store, discover):
    case = ([net(*MGMT), net("ceph", "10.40.0.0", 24, "ceph-cluster", "1g1", "1g2")], ["controller", "cephosd"], "cephosd")
    serial = build(store, discover, case)
    with pytest.raises(InvalidInput, match="eno1 is in bond0, so it cannot also carry addresses"):
        service.plan(store, serial)


def test_an_ovs_bridge_network_needs_a_bridge_name(store, discover):
    serial = build(store, discover, "vm-net")
    networks.set_(store, "provider", {"bridge_name": "none"})
    with pytest.raises(InvalidInput, match="ovs-bridge network provider has no bridge name"):
        service.plan(store, serial)


@pytest.mark.parametrize("setting", ["bgp_to_the_host", "use_ovs_ifaces"])
def test_layouts_not_rendered_yet_are_refused_not_ignored(store, discover, setting):
    serial = build(store, discover, "bond")
    clusters.set_(store, "cl1", {setting: True}, [])
    with pytest.raises(InvalidInput, match=f"{setting} is not supported by oci-netconf yet"):
        service.plan(store, serial)


def test_a_machine_outside_any_cluster_has_no_plan(store, discover):
    discover("LONE1", nics=NICS)
    with pytest.raises(InvalidInput, match="in no cluster"):
        service.plan(store, "LONE1")
    with pytest.raises(NotFound):
        service.plan(store, "NOSUCH")


def test_the_model_refuses_inconsistent_stacks():
    nic = Physical(name="eth0", mac="52:54:00:00:00:01")
    with pytest.raises(InvalidInput, match="sits on eth9"):
        HostNetwork("h", (nic, Vlan(name="eth9.5", link="eth9", vlan_id=5)))
    with pytest.raises(InvalidInput, match="eth0 cannot be in both bond0 and br0"):
        HostNetwork("h", (nic, Bond(name="bond0", members=("eth0",)), Bridge(name="br0", ports=("eth0",))))
    with pytest.raises(InvalidInput, match="interface name"):
        HostNetwork("h", (Physical(name="../../etc", mac="52:54:00:00:00:01"),))


def test_routes_and_extra_addresses_are_rendered():
    device = Physical(
        name="eth0",
        mac="52:54:00:00:00:01",
        addresses=(IPv4Interface("10.0.0.2/24"), IPv4Interface("10.0.1.2/24")),
        routes=(Route(IPv4Network("172.16.0.0/12"), IPv4Address("10.0.0.254")),),
    )
    text = eni.render(HostNetwork("h", (device,)))[eni.HOST_FILE]
    assert "    up ip route replace 172.16.0.0/12 via 10.0.0.254 dev eth0\n" in text
    assert text.endswith("\niface eth0 inet static\n    address 10.0.1.2/24\n")


# ------------------------------------------------------------------------------------------ writer


@pytest.mark.parametrize("relative", ["/etc/hosts", "../hosts", "etc/../../hosts", "etc/.hidden", ""])
def test_the_writer_refuses_paths_that_leave_the_target(tmp_path, relative):
    with pytest.raises(InvalidInput):
        target_path(tmp_path, relative)


def test_the_writer_refuses_a_symlink_out_of_the_target_and_writes_nothing(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    (target / "etc").symlink_to(outside)
    with pytest.raises(InvalidInput, match="leads out of it"):
        write_tree(target, {"a/b": "x", "etc/hosts": "y"})
    assert not (target / "a").exists() and not list(outside.iterdir())


# --------------------------------------------------------------------------------------- oci-netconf


@pytest.fixture
def cli(store, monkeypatch):
    from oci.netconf.main import main

    monkeypatch.setenv("OCI_STATE_DIR", str(store.root))
    monkeypatch.delenv("OCI_CONFIG", raising=False)
    monkeypatch.setattr("oci.config.DEFAULT_CONFIG", store.root / "no-such.conf")
    return main


def test_oci_netconf_writes_under_the_target_or_prints(store, discover, tmp_path, capsys, cli):
    build(store, discover, "bond")
    target = tmp_path / "root"
    target.mkdir()
    assert cli(["cl1-controller-1", "--target", str(target)]) == 0
    assert sorted(tree(target)) == ["etc/hosts", "etc/network/interfaces", "etc/network/interfaces.d/oci"]
    assert capsys.readouterr().out.splitlines() == [str(target.resolve() / p) for p in sorted(tree(target))]
    assert cli(["NC00"]) == 0
    out = capsys.readouterr().out
    assert "==> /etc/network/interfaces.d/oci <==\n" in out and "bond-slaves ens1f0 ens1f1" in out
    assert cli(["NC00", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [d["device"] for d in document["devices"]] == ["ens1f0", "ens1f1", "bond0"]
    assert document["files"] == tree(target)


def test_oci_netconf_bad_input_is_one_line_and_writes_nothing(store, discover, tmp_path, capsys, cli):
    build(store, discover, "single-nic")
    networks.set_(store, "mgmt", {"iface1": "10g3"})
    target = tmp_path / "root"
    target.mkdir()
    assert cli(["NC00", "--target", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("oci-netconf: error: cl1-controller-1.example.com, network mgmt: '10g3' is NIC number 3")
    assert "(reported NICs: eno1 (1000 Mb/s)" in err
    assert not list(target.iterdir())


def test_bin_oci_netconf_runs_the_module(store, discover):
    build(store, discover, "single-nic")
    env = {"OCI_STATE_DIR": str(store.root), "OCI_CONFIG": "/dev/null"}
    done = run([str(REPO / "bin" / "oci-netconf"), "cl1-controller-1.example.com", "--print"], timeout=30, env=env)
    assert "iface eno1 inet static\n    address 192.168.10.2/24\n" in done.stdout


def test_ocicli_machine_show_network_lists_the_planned_devices(store, discover):
    build(store, discover, "vm-net")
    env = {"OCI_STATE_DIR": str(store.root), "OCI_CONFIG": "/dev/null"}
    done = run([str(REPO / "bin" / "ocicli"), "--json", "machine-show-network", "cl1-compute-1"], timeout=30, env=env)
    rows = {row["device"]: row for row in json.loads(done.stdout)}
    assert list(rows) == ["eno1", "eno2", "ens1f0", "ens1f1", "bond0", "bond0.30", "br-prov"]
    assert rows["bond0.30"] == {"device": "bond0.30", "kind": "vlan", "on": ["bond0"], "mtu": 9000, "addresses": ["10.20.0.4/24"],
                                "gateway": None, "networks": ["tunnels"], "mac": None, "vlan": 30}  # fmt: skip
    assert rows["br-prov"]["kind"] == "ovs-bridge" and rows["eno1"]["gateway"] == "192.168.10.1"
    table = run([str(REPO / "bin" / "ocicli"), "machine-show-network", "NC02"], timeout=30, env=env).stdout
    assert table.splitlines()[0].split() == ["device", "kind", "on", "mtu", "addresses", "gateway", "networks", "mac"]
