"""Node status reports: POST /api/v1/status, the OCI 42 install-status.php form, history with durations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import NOW, report_body
from oci.model import Machine, MachineStatus, PuppetStatus
from oci.service import machines
from wsgi_client import Client


@pytest.fixture
def client(store):
    c = Client(store)
    status, _ = c.post_json("/api/v1/report", report_body("C1"))
    assert status == 200
    return c


def status(client, serial, value, **extra):
    return client.post_json("/api/v1/status", {"version": 1, "serial": serial, "status": value, **extra})


def test_life_of_a_machine(client, store):
    steps = [("installing", 0), ("firstboot", 600), ("installed", 660), ("puppet-running", 700), ("puppet-success", 1500)]
    for value, minute in steps:
        client.when = NOW + timedelta(seconds=minute)
        code, reply = status(client, "C1", value, address="192.168.101.2" if value == "installed" else None)
        assert code == 200, reply
    m = store.get(Machine, "C1")
    assert (m.status, m.puppet_status) == (MachineStatus.INSTALLED, PuppetStatus.SUCCESS)
    history = machines.show(store, "C1")["history"]
    assert [(h["status"], h["seconds"]) for h in history] == [
        ("live", 0), ("installing", 600), ("firstboot", 60), ("installed", 40),
        ("puppet-running", 800), ("puppet-success", None)]  # fmt: skip
    assert history[3]["address"] == "192.168.101.2"


def test_installing_again_resets_puppet(client, store):
    status(client, "C1", "puppet-failure")
    status(client, "C1", "installing")
    assert store.get(Machine, "C1").puppet_status is PuppetStatus.NOTRUN


def test_repeated_status_is_one_history_line(client, store):
    for _ in range(3):
        status(client, "C1", "installing")
    assert [h.status for h in store.get(Machine, "C1").history] == ["live", "installing"]


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({"serial": "C1", "status": "rebooting"}, 400, "unknown status 'rebooting'"),
        ({"serial": "C1", "status": ["live"]}, 400, "unknown status"),
        ({"serial": "C9", "status": "live"}, 404, "no machine with serial 'C9'"),
        ({"serial": "../x", "status": "live"}, 400, "invalid serial"),
        ({"status": "live"}, 400, "'serial' and 'status' are required"),
        ({"serial": "C1", "status": "installed", "address": "not-an-ip"}, 400, "is not an IPv4 address"),
        ({"serial": "C1", "status": "live", "extra": 1}, 400, "unknown key(s) extra"),
        ({"version": 2, "serial": "C1", "status": "live"}, 400, "unsupported schema version"),
    ],
)
def test_bad_status_reports_are_refused(client, store, body, code, message):
    before = store.get(Machine, "C1")
    got, reply = client.post_json("/api/v1/status", body)
    assert got == code and message in reply["message"]
    assert store.get(Machine, "C1") == before


def test_oci42_install_status_form(client, store):
    code, _, _ = client.request("GET", "/oci/install-status.php", remote="192.168.100.20")
    assert code == 400  # no status
    # No serial: the machine is found by the address its hardware report came from.
    code, reply = get(client, "/oci/install-status.php?status=installing", remote="192.168.100.20")
    assert code == 200, reply
    assert store.get(Machine, "C1").status is MachineStatus.INSTALLING
    code, reply = get(client, "/oci/install-status.php?status=installed&chassis-serial=C1&ipaddr=192.168.101.2", remote="192.168.100.20")
    assert code == 200, reply
    assert str(store.get(Machine, "C1").history[-1].address) == "192.168.101.2"
    # Another host naming C1 is refused (docs/security.md, "Node trust").
    code, reply = get(client, "/oci/install-status.php?status=live&chassis-serial=C1", remote="192.168.100.77")
    assert code == 409 and "192.168.100.77 is not an address of machine C1" in reply["message"]
    assert store.get(Machine, "C1").status is MachineStatus.INSTALLED
    code, reply = get(client, "/oci/install-status.php?status=live", remote="192.168.100.99")
    assert code == 404 and "no machine reported from 192.168.100.99" in reply["message"]
    code, reply = get(client, "/oci/install-status.php?status=live&chassis-serial=C1", remote="10.9.9.9")
    assert code == 403 and "not in a trusted network" in reply["message"]


def get(client, path_and_query, remote):
    return client.get_json(path_and_query, remote=remote)


def test_machine_show_renders_durations(client, store, capsys):
    from oci.cli.main import main

    client.when = NOW + timedelta(seconds=3723)
    status(client, "C1", "installing")
    assert main(["machine-show", "C1"], store_factory=lambda: store) == 0
    out = capsys.readouterr().out
    assert "2026-11-25T12:00:00Z  live            1h02m03s" in out
    assert "2026-11-25T13:02:03Z  installing      (current)" in out
