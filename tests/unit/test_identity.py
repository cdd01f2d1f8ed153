"""Node identity (docs/security.md, "Node trust"): a known machine's node routes answer only its own
addresses or a request signed with its certified host key; refused requests are recorded as conflicts and
change nothing else; BMC settings go only to the machine itself; one source cannot create machines or
drain the BMC pool at will."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from conftest import NOW, report_body, ssh_keygen, state_files
from oci import operations
from oci.agent import signing
from oci.config import Config
from oci.model import BmcAccess, Machine, MachineStatus, Network
from oci.pki import ssh
from oci.service import clusters, identity, machines, networks, topology
from oci.store import Store
from wsgi_client import Client

ATTACKER = "127.0.0.5"


def report(client, serial, remote, **overrides):
    return client.post_json("/api/v1/report", report_body(serial, **overrides), remote=remote)


def status(client, serial, value, remote):
    return client.post_json("/api/v1/status", {"version": 1, "serial": serial, "status": value}, remote=remote)


@pytest.fixture
def site(store):
    """M1 installed in cluster cla at 10.50.0.2 (it booted live from 192.168.100.20); M2 live at 192.168.100.21."""
    topology.region_create(store, "r1")
    topology.location_create(store, "dc1", "r1")
    networks.create(store, "mgmt", "10.50.0.0", "24", "dc1", "no")
    clusters.create(store, "cla", "example.com")
    networks.add(store, "mgmt", "cla", "all", "eth0")
    client = Client(store)
    assert report(client, "M1", "192.168.100.20")[0] == 200
    machines.add(store, "M1", "cla", "controller", "dc1")
    assert [str(a) for a in identity.allocated_addresses(store.all(Network), "M1")] == ["10.50.0.2"]
    for value in ("installing", "firstboot", "installed"):
        code, reply = status(client, "M1", value, remote="10.50.0.2")  # the installed system, from its own address
        assert code == 200, reply
    assert report(client, "M2", "192.168.100.21")[0] == 200
    return store


def test_a_report_for_an_installed_machine_from_another_host_is_refused_and_recorded(site):
    client = Client(site)
    before = state_files(site, besides=("conflicts",))
    forged = report_body("M1", nics=[{"name": "eth0", "mac": "52:54:00:66:66:66"}])
    code, reply = client.post_json("/api/v1/report", forged, remote=ATTACKER)
    assert code == 409
    assert reply["message"] == f"{ATTACKER} is not an address of machine M1: report refused and recorded"
    assert "machine-accept-address M1" in reply["hint"]
    assert state_files(site, besides=("conflicts",)) == before  # NICs, live address, heartbeat: nothing changed
    assert [(c.address, c.route, c.count) for c in site.conflicts("M1")] == [(ATTACKER, "report", 1)]
    oci42 = {"machine": [{"serial": "M1"}], "interfaces": [{"name": "eth0", "macaddr": "52:54:00:66:66:66"}]}
    assert client.post_json("/oci/report.php", oci42, remote=ATTACKER)[0] == 409  # the OCI 42 form too
    assert state_files(site, besides=("conflicts",)) == before
    # From its own addresses the machine still reports and gets its status through.
    assert report(client, "M1", "192.168.100.20")[0] == 200
    assert status(client, "M1", "puppet-running", remote="10.50.0.2")[0] == 200


def test_a_host_certificate_for_an_installed_machine_is_signed_only_at_its_allocated_address(site, tmp_path):
    client = Client(site)
    public = ssh_keygen(tmp_path / "key")
    before = state_files(site, besides=("conflicts",))
    code, reply = client.post_json("/api/v1/ssh/host-key", {"serial": "M1", "public_key": public}, remote=ATTACKER)
    assert code == 409 and reply["data"] is None
    assert state_files(site, besides=("conflicts",)) == before and site.get(Machine, "M1").host_key is None
    assert [c.route for c in site.conflicts("M1")] == ["host-key"]
    # Its live address is its own for reports, but an installed machine's certificate names its allocations:
    # it is signed only when asked from one of them.
    code, reply = client.post_json("/api/v1/ssh/host-key", {"serial": "M1", "public_key": public}, remote="192.168.100.20")
    assert code == 403 and "is not the address machine M1 is known at (10.50.0.2)" in reply["message"]
    code, reply = client.post_json("/api/v1/ssh/host-key", {"serial": "M1", "public_key": public}, remote="10.50.0.2")
    assert code == 200, reply
    assert ssh.describe(reply["data"]["certificate"])["principals"] == ["cla-controller-1.example.com", "cla-controller-1", "10.50.0.2"]
    assert site.get(Machine, "M1").host_key == " ".join(public.split()[:2])


def test_a_status_for_another_machine_from_a_foreign_address_is_refused(site):
    client = Client(site)
    before = state_files(site, besides=("conflicts",))
    for serial in ("M1", "M2"):
        code, reply = status(client, serial, "installed", remote=ATTACKER)
        assert code == 409, reply
    code, reply = client.get_json("/oci/install-status.php?status=installed&chassis-serial=M2", remote=ATTACKER)
    assert code == 409
    assert state_files(site, besides=("conflicts",)) == before
    assert site.get(Machine, "M2").status is MachineStatus.LIVE
    assert [(c.address, c.route, c.count) for c in site.conflicts("M2")] == [(ATTACKER, "status", 2)]


def test_an_address_allocated_to_one_machine_cannot_speak_for_another(site):
    client = Client(site)
    code, reply = report(client, "M2", "10.50.0.2")
    assert code == 403 and "10.50.0.2 belongs to machine M1" in reply["message"]
    assert [(c.address, c.route) for c in site.conflicts("M2")] == [("10.50.0.2", "report")]


def test_conflicts_are_shown_capped_and_cleared_by_the_operator(site):
    client = Client(site)
    for _ in range(3):
        report(client, "M2", ATTACKER)
    for i in range(identity.CONFLICTS_KEPT + 4):
        client.when = NOW + timedelta(seconds=i + 1)
        report(client, "M2", f"127.0.1.{i}")
    shown = machines.show(site, "M2")["conflicts"]
    assert len(shown) == identity.CONFLICTS_KEPT
    assert shown[0]["address"] == "127.0.1.4" and shown[-1]["address"] == f"127.0.1.{identity.CONFLICTS_KEPT + 3}"
    assert operations.execute(site, "machine_conflicts", {"machine": "M2"}) == shown
    assert operations.execute(site, "machine_conflicts_clear", {"machine": "M2"}) == {"serial": "M2", "cleared": identity.CONFLICTS_KEPT}
    assert machines.show(site, "M2")["conflicts"] == []
    assert "machine_conflicts_clear" in (site.root / "audit.log").read_text()


def test_a_genuine_renumbering_is_accepted_by_the_operator(site):
    client = Client(site)
    assert report(client, "M2", "192.168.100.77")[0] == 409
    result = operations.execute(site, "machine_accept_address", {"machine": "M2", "address": "192.168.100.77"})
    assert result == {"serial": "M2", "address": "192.168.100.77"}
    assert site.conflicts("M2") == []
    assert report(client, "M2", "192.168.100.77")[0] == 200
    assert str(site.heartbeat("M2").address) == "192.168.100.77"
    assert report(client, "M2", "192.168.100.21")[0] == 409  # the old address is not its own any more
    with pytest.raises(Exception, match="10.50.0.2 is allocated to M1"):
        operations.execute(site, "machine_accept_address", {"machine": "M2", "address": "10.50.0.2"})
    with pytest.raises(Exception, match="is not an IPv4 address"):
        operations.execute(site, "machine_accept_address", {"machine": "M2", "address": "nowhere"})


# ----------------------------------------------------------------------------------------- proof of identity
def signed(client, key, serial, remote, clock=None, body=None):
    raw = json.dumps(body or report_body(serial)).encode()
    sign = signing.signer(key, clock=clock or (lambda: client.when.timestamp()))
    headers = sign("POST", "http://master:8080/api/v1/report", raw)
    status, _, payload = client.request("POST", "/api/v1/report", raw, remote=remote, headers=headers)
    return status, json.loads(payload), headers, raw


def test_a_renumbered_node_proves_itself_with_its_certified_host_key(site, tmp_path):
    client = Client(site)
    key = tmp_path / "ssh_host_ed25519_key"
    public = ssh_keygen(key)
    assert report(client, "L1", "192.168.100.30")[0] == 200
    code, reply = client.post_json("/api/v1/ssh/host-key", {"serial": "L1", "public_key": public}, remote="192.168.100.30")
    assert code == 200, reply
    # Its lease changed: unsigned, it is a stranger; signed with the key OCI certified, it is L1.
    assert report(client, "L1", "192.168.100.31")[0] == 409
    code, reply, headers, raw = signed(client, key, "L1", "192.168.100.31", body=report_body("L1", memory={"total_mb": 4096}))
    assert code == 200, reply
    assert str(site.heartbeat("L1").address) == "192.168.100.31"
    assert site.get(Machine, "L1").hardware.memory_mb == 4096
    assert report(client, "L1", "192.168.100.31")[0] == 200  # its own address now
    # The same signed request replayed from elsewhere proves nothing.
    before = state_files(site, besides=("conflicts",))
    status, _, _ = client.request("POST", "/api/v1/report", raw, remote="192.168.100.32", headers=headers)
    assert status == 409 and state_files(site, besides=("conflicts",)) == before


def test_signatures_that_prove_nothing(site, tmp_path):
    client = Client(site)
    key, other = tmp_path / "key", tmp_path / "other"
    public = ssh_keygen(key)
    ssh_keygen(other)
    report(client, "L1", "192.168.100.30")
    client.post_json("/api/v1/ssh/host-key", {"serial": "L1", "public_key": public}, remote="192.168.100.30")
    _, _, headers, raw = signed(client, key, "L1", "192.168.100.30")  # a good signature, sent from L1's address
    before = state_files(site, besides=("conflicts",))
    assert signed(client, other, "L1", ATTACKER)[0] == 409  # a key OCI did not certify for L1
    assert signed(client, key, "L1", ATTACKER, clock=lambda: client.when.timestamp() - 400)[0] == 409  # too old
    tampered = raw.replace(b"8192", b"9999")
    assert client.request("POST", "/api/v1/report", tampered, remote=ATTACKER, headers={**headers, "X-OCI-Node-Nonce": "ab" * 8})[0] == 409
    for bad in ({"X-OCI-Node-Signature": "%%%"}, {"X-OCI-Node-Time": "soon"}, {"X-OCI-Node-Nonce": "x"}):
        assert client.request("POST", "/api/v1/report", raw, remote=ATTACKER, headers={**headers, **bad})[0] == 409
    assert state_files(site, besides=("conflicts",)) == before
    # M2 never had a key certified: no signature can speak for it.
    assert signed(client, key, "M2", ATTACKER)[0] == 409


# ----------------------------------------------------------------------------------------- BMC settings
@pytest.fixture
def bmc_site(site):
    networks.create(site, "bmcs", "10.9.0.0", "24", "dc1", "no")
    networks.set_(site, "bmcs", {"role": "ipmi", "ipmi_match": "192.168.100.0/24"})
    return site


def test_bmc_settings_go_only_to_the_machine_itself_and_never_twice(bmc_site):
    client = Client(bmc_site)
    code, reply = report(client, "VICTIM1", "192.168.100.40")
    password = reply["data"]["bmc"]["password"]
    before = state_files(bmc_site, besides=("conflicts",))
    code, _, payload = client.request("POST", "/api/v1/report", json.dumps(report_body("VICTIM1")).encode(), remote="192.168.100.41")
    assert code == 409 and password.encode() not in payload and b"bmc" not in payload
    assert state_files(bmc_site, besides=("conflicts",)) == before
    assert report(client, "VICTIM1", "192.168.100.40")[1]["data"]["bmc"]["password"] == password  # pending: repeated to itself
    assert "bmc" not in report(client, "VICTIM1", "192.168.100.40", bmc={"address": "10.9.0.2"})[1]["data"]  # confirmed
    # Once confirmed, never again: not even to the machine, whatever its BMC shows later.
    assert "bmc" not in report(client, "VICTIM1", "192.168.100.40", bmc={"address": "10.9.0.77"})[1]["data"]
    assert "bmc" not in report(client, "VICTIM1", "192.168.100.40")[1]["data"]


def test_a_network_without_a_match_numbers_only_enrolled_machines(site):
    networks.create(site, "bmcs", "10.9.0.0", "24", "dc1", "no")
    networks.set_(site, "bmcs", {"role": "ipmi"})
    client = Client(site)
    assert "bmc" not in report(client, "X1", "192.168.100.50")[1]["data"]
    assert site.find(BmcAccess, "X1") is None
    report(client, "E1", "192.168.100.51")
    machines.add(site, "E1", "cla", "compute", "dc1")
    assert report(client, "E1", "192.168.100.51")[1]["data"]["bmc"]["address"] == "10.9.0.2"


def test_invented_serials_from_one_host_do_not_drain_the_pool(tmp_path):
    root = tmp_path / "state"
    store = Store(root, lock_timeout=10, config=Config(state_dir=root, new_machines_per_source_per_minute=1000))
    topology.region_create(store, "r1")
    topology.location_create(store, "dc1", "r1")
    networks.create(store, "bmcs", "10.9.0.0", "24", "dc1", "no")
    networks.set_(store, "bmcs", {"role": "ipmi", "ipmi_match": "192.168.100.0/24"})
    client = Client(store)
    replies = [report(client, f"FAKE{i}", "192.168.100.66") for i in range(252)]
    assert all(code == 200 for code, _ in replies)
    assert [r["data"]["serial"] for _, r in replies if "bmc" in r["data"]] == ["FAKE0"]
    assert len(store.get(Network, "bmcs").allocations) == 1
    # Once FAKE0's BMC answers at its address, that source may have the next one numbered.
    assert "bmc" not in report(client, "FAKE0", "192.168.100.66", bmc={"address": "10.9.0.2"})[1]["data"]
    assert report(client, "FAKE1", "192.168.100.66")[1]["data"]["bmc"]["address"] == "10.9.0.3"
    # A real machine reporting from its own address still gets its BMC numbered.
    assert report(client, "REAL1", "192.168.100.67")[1]["data"]["bmc"]["address"] == "10.9.0.4"


def test_a_full_pool_does_not_fail_the_report(site):
    networks.create(site, "bmcs", "10.9.0.0", "29", "dc1", "no")
    networks.set_(site, "bmcs", {"role": "ipmi", "ipmi_match": "192.168.100.0/24"})
    client = Client(site)
    free = len(list(range(2, 7)))  # .1 is the gateway, .7 the broadcast
    for i in range(free):
        assert "bmc" in report(client, f"B{i}", f"192.168.100.{60 + i}")[1]["data"]
    code, reply = report(client, "LATE", "192.168.100.70")
    assert (code, reply["data"]["result"]) == (200, "created") and "bmc" not in reply["data"]
    assert site.find(BmcAccess, "LATE") is None and site.find(Machine, "LATE") is not None


# ----------------------------------------------------------------------------------------- new machines per source
def test_new_machines_per_source_per_minute_are_limited(tmp_path):
    root = tmp_path / "state"
    store = Store(root, lock_timeout=10, config=Config(state_dir=root, new_machines_per_source_per_minute=3))
    client = Client(store)
    for i in range(3):
        assert report(client, f"N{i}", "192.168.100.20")[0] == 200
    code, reply = report(client, "N3", "192.168.100.20")
    assert code == 429 and reply["message"] == "192.168.100.20 reported 3 new machines in the last minute: no more are recorded for now"
    assert reply["hint"] == "see [api] new_machines_per_source_per_minute"
    assert store.find(Machine, "N3") is None and store.heartbeat("N3") is None
    assert report(client, "N0", "192.168.100.20")[0] == 200  # a known machine is not a new one
    assert report(client, "N3", "192.168.100.21")[0] == 200  # another source has its own share
    client.when = NOW + timedelta(seconds=61)
    assert report(client, "N4", "192.168.100.20")[0] == 200  # a minute later
