"""Automatic BMC numbering from an ``ipmi`` network: the master allocates and answers the report with the
settings, the agent applies them in-band (here: ipmitool over lanplus to ipmi_sim, standing in for the
node's local interface), and the next report confirms them."""

from __future__ import annotations

import json
import subprocess
from ipaddress import IPv4Address, IPv4Network

import pytest
from simbmc import lanplus, simulated_bmcs

from conftest import report_body
from oci.agent import bmcconf
from oci.bmc import Policy, PyghmiBmc, Target
from oci.discover import tools
from oci.model import AllocationKind, BmcAccess, Network
from oci.run import CommandError
from oci.service import bmcauto, bmcops, machines, networks, topology
from wsgi_client import Client


@pytest.fixture
def site(store):
    """A location with an ipmi network 10.9.0.0/24 (VLAN 42) numbering machines that report from 192.168.100.0/24."""
    topology.region_create(store, "r1")
    topology.location_create(store, "dc1", "r1")
    networks.create(store, "bmcs", "10.9.0.0", "24", "dc1", "no")
    networks.set_(store, "bmcs", {"role": "ipmi", "ipmi_match": "192.168.100.0/24", "vlan": "42"})
    return store


def bmc_report(serial, address=None):
    return report_body(serial, bmc={"address": address} if address else None)


def test_a_live_machine_gets_the_next_address_and_settings_until_it_confirms(site):
    client = Client(site)
    status, reply = client.post_json("/api/v1/report", report_body("C1"), remote="192.168.100.20")
    assert status == 200, reply
    given = reply["data"]["bmc"]
    password = given.pop("password")
    assert given == {"channel": 1, "user_id": 3, "user": "oci", "address": "10.9.0.2", "netmask": "255.255.255.0",
                     "gateway": "10.9.0.1", "vlan": 42}  # fmt: skip
    assert len(password) == 16 and password.isalnum()
    access = site.get(BmcAccess, "C1")
    assert (access.pending, access.network, access.password) == (True, "bmcs", password)
    assert oct((site.root / "bmc" / "C1.yaml").stat().st_mode & 0o777) == "0o600"
    assert [(str(a.address), a.kind, a.owner) for a in site.get(Network, "bmcs").allocations] == [("10.9.0.2", AllocationKind.IPMI, "C1")]
    # Until the BMC shows up at its address, every reply repeats the same settings (nothing new allocated).
    assert client.post_json("/api/v1/report", report_body("C1"), remote="192.168.100.20")[1]["data"]["bmc"]["password"] == password
    # A second machine gets the next address; one outside the match gets nothing; the OCI 42 endpoint carries none.
    assert client.post_json("/api/v1/report", report_body("C2"), remote="192.168.100.21")[1]["data"]["bmc"]["address"] == "10.9.0.3"
    assert "bmc" not in client.post_json("/api/v1/report", report_body("C3"), remote="127.0.0.1")[1]["data"]
    # The report that shows the BMC at its address confirms it: no more settings.
    status, reply = client.post_json("/api/v1/report", bmc_report("C1", "10.9.0.2"), remote="192.168.100.20")
    assert "bmc" not in reply["data"]
    assert site.get(BmcAccess, "C1").pending is False
    shown = machines.show(site, "C1")["bmc"]
    assert shown == {"use": True, "address": "10.9.0.2", "port": 623, "user": "oci", "network": "bmcs", "pending": False}
    assert password not in json.dumps(machines.show(site, "C1"))


def test_assign_check_lists_machines_whose_bmc_is_elsewhere(site, discover):
    client = Client(site)
    client.post_json("/api/v1/report", report_body("C1"), remote="192.168.100.20")
    client.post_json("/api/v1/report", bmc_report("C1", "10.9.0.2"), remote="192.168.100.20")
    client.post_json("/api/v1/report", report_body("C2"), remote="192.168.100.21")
    discover("C4", address="127.0.0.1", bmc={"address": "10.8.0.9"})
    bmcops.set_access(site, "C4", "yes", "10.8.0.4", 623, "root", "calvin")
    rows = {r["serial"]: r["state"] for r in bmcauto.assign_check(site)}
    assert rows == {"C2": "pending", "C4": "differs"}
    assert {r["serial"]: r["state"] for r in bmcauto.assign_check(site, show_all=True)}["C1"] == "ok"
    # The operator's word replaces OCI's numbering and frees the address.
    bmcops.set_access(site, "C2", "yes", "10.8.0.5", 623, "root", "calvin")
    assert [a.owner for a in site.get(Network, "bmcs").allocations] == ["C1"]
    # The pool cannot be deleted while it holds BMC addresses; forgetting a machine removes its BMC secrets.
    with pytest.raises(Exception, match="carries 1 address"):
        networks.delete(site, "bmcs")
    machines.destroy(site, "C1")
    assert not (site.root / "bmc" / "C1.yaml").exists()
    assert site.get(Network, "bmcs").allocations == ()


def test_settings_from_a_reply_are_applied_in_band_and_then_confirmed(site, tmp_path):
    client = Client(site)
    with simulated_bmcs(tmp_path, 1) as [(target, _)]:
        reply = client.post_json("/api/v1/report", report_body("C1"), remote="192.168.100.20")[1]["data"]
        configure = bmcconf.Configurator(ipmitool=lanplus(target))
        configure(reply)
        lan = subprocess.run([*lanplus(target), "lan", "print", "1"], capture_output=True, text=True, check=True).stdout
        assert "802.1q VLAN ID          : 42" in lan
        seen = tools.ipmitool_lan(lan)["address"]
        assert seen == "10.9.0.2"
        # OCI's own user works on the BMC with the generated password (pyghmi, as OCI will use it).
        password = site.get(BmcAccess, "C1").password
        oci_user = PyghmiBmc(Target(target.address, target.port, "oci", password), Policy(timeout=10))
        assert oci_user.power_status() == "off"
        # The agent reports what it now sees; the master confirms.
        reply = client.post_json("/api/v1/report", bmc_report("C1", seen), remote="192.168.100.20")[1]["data"]
        assert "bmc" not in reply and site.get(BmcAccess, "C1").pending is False


def test_agent_applies_each_settings_once_and_never_shows_the_password(tmp_path, caplog):
    settings = {"channel": 1, "user_id": 3, "user": "oci", "password": "Abcdefgh12345678", "address": "10.9.0.7",
                "netmask": "255.255.255.0", "gateway": None, "vlan": None}  # fmt: skip
    with simulated_bmcs(tmp_path, 1) as [(target, _)]:
        clock = [0.0]
        configure = bmcconf.Configurator(ipmitool=lanplus(target), now=lambda: clock[0])
        configure({"bmc": settings})
        # A required step the BMC refuses (channel 9 does not exist): a clear error without the password.
        broken = {**settings, "channel": 9}
        with pytest.raises(CommandError) as err:
            bmcconf.apply(bmcconf.BmcSettings.parse(broken), lanplus(target))
        assert "Abcdefgh12345678" not in str(err.value)
        configure({"bmc": broken})
        failures = [r.getMessage() for r in caplog.records if "stopped" in r.getMessage()]
        assert len(failures) == 1 and "Abcdefgh12345678" not in failures[0]
        configure({"bmc": broken})  # not again before retry_after
        assert len([r for r in caplog.records if "stopped" in r.getMessage()]) == 1
    assert all("Abcdefgh12345678" not in r.getMessage() for r in caplog.records)
    with pytest.raises(bmcconf.SettingsError, match="invalid password"):
        bmcconf.BmcSettings.parse({**settings, "password": "x; reboot"})
    with pytest.raises(bmcconf.SettingsError, match="vlan"):
        bmcconf.BmcSettings.parse({**settings, "vlan": 5000})


def test_pool_choice_prefers_the_narrowest_match():
    def pool(name, match):
        return Network(
            name, IPv4Address(f"10.{len(name)}.0.0"), 24, "dc1", False, role="ipmi", ipmi_match=IPv4Network(match) if match else None
        )

    pools = [pool("any", None), pool("site", "192.168.0.0/16"), pool("rack1", "192.168.100.0/24")]
    assert bmcauto.pool_for(pools, IPv4Address("192.168.100.9")).name == "rack1"
    assert bmcauto.pool_for(pools, IPv4Address("192.168.5.5")).name == "site"
    # A network without a match numbers only the machines the operator enrolled.
    assert bmcauto.pool_for(pools, IPv4Address("10.0.0.1")) is None
    assert bmcauto.pool_for(pools, IPv4Address("10.0.0.1"), enrolled=True).name == "any"
    assert bmcauto.pool_for(pools[1:], IPv4Address("10.0.0.1"), enrolled=True) is None
