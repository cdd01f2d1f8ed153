"""The HTTP API in-process (WSGI): report intake, bad bodies, never a 5xx or a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, report_body
from oci.api import MAX_BODY_BYTES
from oci.model import Machine, MachineStatus
from oci.store import Store
from wsgi_client import Client


@pytest.fixture
def client(store):
    return Client(store)


def test_report_creates_then_updates(client, store):
    status, reply = client.post_json("/api/v1/report", report_body("C1"))
    assert (status, reply["status"], reply["data"]["result"]) == (200, "success", "created")
    machine = store.get(Machine, "C1")
    assert machine.status is MachineStatus.LIVE
    assert str(store.heartbeat("C1").address) == "192.168.100.20"
    assert client.post_json("/api/v1/report", report_body("C1"))[1]["data"]["result"] == "seen"
    changed = report_body("C1", memory={"total_mb": 16384})
    assert client.post_json("/api/v1/report", changed)[1]["data"]["result"] == "updated"
    assert store.get(Machine, "C1").hardware.memory_mb == 16384
    assert store.heartbeat("C1").reports == 3
    assert str(store.heartbeat("C1").address) == "192.168.100.20"


def test_nics_of_a_new_machine_are_stored_from_its_first_report(client, store):
    client.post_json("/api/v1/report", report_body("C1"))
    assert [n.mac for n in store.get(Machine, "C1").hardware.nics] == ["52:54:00:12:34:56"]


OCI42_BODY = {
    "blockdevices": [
        {"name": "sda", "realdev": "sda", "size": "480103981056", "model": "PERC H730P Mini"},
        {"name": "zram0", "realdev": "zram0", "size": "0", "model": "null"},
    ],
    "interfaces": [
        {"name": "eno1", "macaddr": "24:6e:96:aa:bb:01", "max_speed": "10000", "switchport_name": "Ethernet1/12",
         "switch_hostname": "tor-a12", "firmware_version": "20.8.4", "driver": "i40e"},
        {"name": "ifb0", "macaddr": "6e:69:44:59:be:04", "max_speed": "100", "switchport_name": "unknown",
         "switch_hostname": "unknown", "firmware_version": "", "driver": "ifb"},
    ],
    "blkdev_ctrl": [{"hwid": "storage", "vendor": "Broadcom / LSI", "product": "MegaRAID SAS-3 3108", "ctrl_type": "LSI-raid",
                     "firmware_version": "4.300.00-8364"}],
    "machine": [{"serial": "7XK2ND2", "system_manufacturer": "Dell Inc.", "productname": "PowerEdge R640", "bios_version": "2.17.1",
                 "dell_lifecycle_version": "5.00.10.20", "ipmi_firmware_version": "5.00.10.20", "ipmi_detected_ip": "10.10.0.12",
                 "ladvd_report": "none", "use_oci_sort_dev": "no", "cpu_vendor": "GenuineIntel", "cpu_threads": "104",
                 "cpu_core_per_socket": "26", "cpu_sockets": "2", "cpu_model_name": "Intel(R) Xeon(R) Gold 6230R CPU @ 2.10GHz",
                 "cpu_mhz": "2100.000", "boot_uefi": "yes", "secure_boot": "no"}],
    "memory": [{"size": "393216", "type": "DDR4", "speed": "2933 MT/s", "manufacturer": "00AD069D00AD"}],
}  # fmt: skip


def test_oci42_agent_body_is_accepted_unchanged(client, store):
    status, reply = client.post_json("/oci/report.php", OCI42_BODY)
    assert status == 200, reply
    m = store.get(Machine, "7XK2ND2")
    hw = m.hardware
    assert (hw.manufacturer, hw.product_name, hw.lifecycle_version, hw.uefi, hw.secure_boot) == (
        "Dell Inc.", "PowerEdge R640", "5.00.10.20", True, False)  # fmt: skip
    assert (hw.cpu.sockets, hw.cpu.cores_per_socket, hw.cpu.threads, hw.cpu.mhz, hw.memory_mb) == (2, 26, 104, 2100.0, 393216)
    assert [d.name for d in hw.disks] == ["sda"]  # the zero-size zram is skipped, not fatal
    assert hw.disks[0].model == "PERC H730P Mini"
    assert [(n.name, n.speed_mbps, n.switch_name, n.switch_port) for n in hw.nics] == [
        ("eno1", 10000, "tor-a12", "Ethernet1/12"), ("ifb0", 100, None, None)]  # fmt: skip
    assert hw.storage_controllers[0].kind == "LSI-raid"
    assert str(hw.bmc.address) == "10.10.0.12"
    assert any("zram0 skipped" in n for n in m.report_notes)


def test_odd_but_honest_entries_are_skipped_not_fatal(client, store):
    body = report_body(
        "C1",
        disks=[{"name": "sda", "size_bytes": 1000204886016, "model": "null"}, {"name": "zram0", "size_bytes": 0},
               {"name": "../../etc", "size_bytes": 5}, "garbage", {"name": "sdb", "size_bytes": "12G"}],
        nics=[{"name": "eth0", "mac": "52:54:00:12:34:56"}, {"name": "eth1", "mac": "not-a-mac"},
              {"name": "eth0", "mac": "52:54:00:12:34:57"}],
        bmc={"address": "", "firmware": "Not Specified"},
        system={"manufacturer": "To Be Filled By O.E.M.", "product_name": "  "},
    )  # fmt: skip
    status, reply = client.post_json("/api/v1/report", body)
    assert status == 200
    m = store.get(Machine, "C1")
    assert [d.name for d in m.hardware.disks] == ["sda"]
    assert m.hardware.disks[0].model is None
    assert [n.mac for n in m.hardware.nics] == ["52:54:00:12:34:56"]
    assert m.hardware.bmc is None and m.hardware.manufacturer is None
    assert len(reply["data"]["notes"]) == 6


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"not json", 400, "not valid JSON"),
        (b"", 400, "empty request body"),
        (b"\xff\xfe", 400, "not UTF-8"),
        (b"[1, 2]", 400, "expected a JSON object"),
        (b'{"version": 1}', 400, "'serial' is missing"),
        (b'{"serial": "C1"}', 400, "unsupported schema version"),
        (b'{"version": 1, "serial": 42}', 400, "invalid serial"),
        (b'{"version": 1, "serial": "../etc/x"}', 400, "invalid serial '../etc/x'"),
        (b'{"version": 1, "serial": "a\\u0000b"}', 400, "invalid serial"),
        (b'{"version": 1, "serial": "C1", "disks": {"a": 1}}', 400, "'disks' must be a list"),
        (b'{"version": 1, "serial": "C1", "system": []}', 400, "'system' must be an object"),
        (b'{"version": 1, "serial": "C1", "memory": {"total_mb": NaN}}', 400, "NaN is not valid JSON"),
        (b"[" * 100000 + b"]" * 100000, 400, "nested too deeply"),
    ],
)
def test_bad_bodies_get_a_4xx_json_error_and_change_nothing(client, store, body, status, message):
    got, headers, payload = client.request("POST", "/api/v1/report", body)
    reply = json.loads(payload)
    assert got == status
    assert headers["Content-Type"] == "application/json"
    assert reply["status"] == "error" and message in reply["message"]
    assert not (store.root / "machines").exists()


def test_oversized_body_is_refused(client, store):
    huge = json.dumps(report_body("C1", notes="x" * (MAX_BODY_BYTES + 10))).encode()
    status, _, payload = client.request("POST", "/api/v1/report", huge)
    assert status == 413 and "larger than" in json.loads(payload)["message"]
    status, _, _ = client.request("POST", "/api/v1/report", b"{}", length=str(10 * MAX_BODY_BYTES))
    assert status == 413
    assert not (store.root / "machines").exists()


def test_oci42_bad_bodies(client, store):
    for body in ({"machine": "x"}, {"machine": [{}]}, {"machine": [{"serial": "a/b"}]}, {"machine": [{"serial": "C1"}], "interfaces": "x"}):
        status, reply = client.post_json("/oci/report.php", body)
        assert status == 400, reply
    assert not (store.root / "machines").exists()


def test_unknown_endpoint_and_method(client):
    status, headers, payload = client.request("GET", "/nope")
    assert (status, json.loads(payload)["status"]) == (404, "error")
    status, headers, payload = client.request("GET", "/api/v1/report")
    assert status == 405 and headers["Content-Type"].startswith("application/json")


def test_nodes_outside_the_trusted_networks_are_refused(client, store):
    for remote in ("10.9.9.9", "::1", "2001:db8::1"):
        status, reply = client.post_json("/api/v1/report", report_body("C1"), remote=remote)
        assert status == 403 and "not in a trusted network" in reply["message"]
    assert not (store.root / "machines").exists()
    status, _ = client.post_json("/api/v1/report", report_body("C1"), remote="::ffff:127.0.0.1")  # IPv4 in IPv6 clothes
    assert status == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
report_keys = st.sampled_from(["version", "serial", "system", "cpu", "memory", "disks", "nics", "bmc", "errors", "raid_drives"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    body=st.dictionaries(report_keys, json_values, max_size=8) | json_values, path=st.sampled_from(["/api/v1/report", "/oci/report.php"])
)
def test_no_body_gets_a_5xx(tmp_path_factory, body, path):
    store = Store(Path(tmp_path_factory.mktemp("fuzz")))
    status, payload = Client(store).post_json(path, body)
    assert status < 500, payload
    assert payload["status"] in ("success", "error")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(overrides=st.fixed_dictionaries({}, optional={
    "disks": st.lists(st.fixed_dictionaries({}, optional={"name": json_values, "size_bytes": json_values, "model": json_values}),
                      max_size=4),
    "nics": st.lists(st.fixed_dictionaries({}, optional={"name": json_values, "mac": json_values, "speed_mbps": json_values}), max_size=4),
    "cpu": st.dictionaries(st.sampled_from(["vendor", "model", "sockets", "threads", "mhz"]), json_values),
}))  # fmt: skip
def test_valid_serial_with_any_entries_is_recorded(tmp_path_factory, overrides):
    store = Store(Path(tmp_path_factory.mktemp("fuzz")))
    status, payload = Client(store).post_json("/api/v1/report", report_body("C1", **overrides))
    assert status == 200, payload
    assert store.get(Machine, "C1").serial == "C1"


def test_real_captures_make_acceptable_reports(client, store):
    from oci.discover.report import from_capture_folder

    for folder in sorted((REPO / "tests" / "data" / "hw").iterdir()):
        if folder.is_dir():
            status, reply = client.post_json("/api/v1/report", from_capture_folder(folder, serial="X" + str(abs(hash(folder.name)))[:8]))
            assert status == 200, (folder.name, reply)
