"""Automatic enrolment (lib/oci/service/automation.py): machine-auto-add from a real server's report (the Dell R640
of tests/data/hw/, its hardware profile and its LLDP rack), its refusals, and the steps a machine's reports set off
through the report route, each audited and explained in machine-show."""

from __future__ import annotations

import dataclasses
import json
from ipaddress import IPv4Address

import pytest

from conftest import NOW, REPO, state_files
from oci import operations
from oci.cli.main import main
from oci.discover.report import from_capture_folder
from oci.errors import OciError
from oci.model import Machine
from oci.report import v1
from oci.service import automation, clusters, machines, networks, reports, topology
from oci.store import Store
from wsgi_client import Client

HW = REPO / "tests" / "data" / "hw"
LIVE = "192.168.100.30"  # the live image's address the Dell reports from
PROFILES = """
r640-store:
  role: swiftstore
  match: {product_name: PowerEdge R640}
  layout: {raid: "1", members: [sda, sdb]}
"""
RACKING = """
switches: [{switch: router, dc: dc1, row: A, rack: a12, location: dc1-zone1}]
ports: {ge-1/0/1: 14}
"""


def dell_report(serial="DELL1", **changes):
    body = from_capture_folder(HW / "dell-poweredge-r640", serial=serial)
    body.update(changes)
    return body


@pytest.fixture
def site(store):
    store.config.hardware_profiles.write_text(PROFILES)
    store.config.racking_rules.write_text(RACKING)
    topology.region_create(store, "r1")
    topology.location_create(store, "dc1-zone1", "r1")
    networks.create(store, "mgmt", "192.168.101.0", "24", "dc1-zone1", "no")
    clusters.create(store, "cl1", "example.com")
    networks.add(store, "mgmt", "cl1", "all", "eth0")
    reports.record(store, v1.parse(dell_report()), IPv4Address(LIVE), NOW)
    return store


def test_auto_add_enrols_with_the_profiles_role_and_the_racks_location(site, capsys):
    before = state_files(site, besides=("enc",))
    assert main(["machine-auto-add", "--dry-run", "--cluster", "cl1", "DELL1"], store_factory=lambda: site) == 0
    why = ("role swiftstore from hardware profile r640-store; location dc1-zone1 from rack dc1/a12 (eno1 on router port ge-1/0/1); "
           "cluster cl1 (given)")  # fmt: skip
    assert capsys.readouterr().out == f"DELL1 would be enrolled in cl1 as swiftstore in dc1-zone1: {why}; nothing changed (--dry-run)\n"
    assert state_files(site, besides=("enc",)) == before
    assert main(["machine-auto-add", "--cluster", "cl1", "DELL1"], store_factory=lambda: site) == 0
    assert capsys.readouterr().out == f"DELL1 enrolled as cl1-swiftstore-1.example.com: {why}\n"
    shown = machines.show(site, "DELL1")
    assert (shown["enrolment"]["role"], shown["enrolment"]["location"], shown["profile"]) == ("swiftstore", "dc1-zone1", "r640-store")
    assert [(e["step"], e["outcome"], e["why"]) for e in shown["automation"]] == [("add", "done", why)]
    audit = [json.loads(line) for line in (site.root / "audit.log").read_text().splitlines()]
    assert [(a["operation"], a["outcome"]) for a in audit[-1:]] == [("machine_auto_add", "ok")]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda s: None, "no cluster to enrol it in"),  # no --cluster, no [fleet] auto_add_cluster
        (lambda s: s.config.hardware_profiles.write_text(PROFILES.replace("R640", "R740")),
         "no role for DELL1: no hardware profile fits it"),
        (lambda s: s.config.hardware_profiles.write_text(PROFILES + PROFILES.replace("r640-store", "other")),
         "no role for DELL1: 2 hardware profiles fit it (r640-store, other)"),
        (lambda s: s.config.racking_rules.write_text(RACKING.replace(", location: dc1-zone1", "")),
         "no location for DELL1: the racking rule of switch router names none"),
        (lambda s: s.config.racking_rules.write_text(RACKING.replace("router", "leaf")),
         "no rack for DELL1: eno1: switch router fits no switch rule"),
    ],
)  # fmt: skip
def test_auto_add_refuses_in_one_line_and_changes_nothing(site, change, error):
    change(site)
    before = state_files(site)
    with pytest.raises(OciError) as refused:
        automation.auto_add(site, "DELL1", None if error.startswith("no cluster") else "cl1")
    assert refused.value.message.startswith(error) and "\n" not in refused.value.message
    assert state_files(site) == before


def automated(store, **thresholds):
    """The same state, with the automation's settings of the configuration."""
    return Store(store.root, lock_timeout=10, config=dataclasses.replace(store.config, auto_add_cluster="cl1", **thresholds))


def test_reports_set_off_racking_then_enrolment_each_audited_and_explained(site):
    store = automated(site, auto_rack_after=2, auto_add_after=3)
    client = Client(store)
    assert client.post_json("/api/v1/report", dell_report(), remote=LIVE)[0] == 200  # the 2nd report: racked
    assert machines.show(store, "DELL1")["settings"]["loc_rack"] == "a12"
    assert store.get(Machine, "DELL1").enrolment is None
    assert client.post_json("/api/v1/report", dell_report(), remote=LIVE)[0] == 200  # the 3rd: enrolled
    assert store.get(Machine, "DELL1").enrolment.hostname == "cl1-swiftstore-1.example.com"
    assert client.post_json("/api/v1/report", dell_report(), remote=LIVE)[0] == 200  # the 4th: nothing more
    events = machines.show(store, "DELL1")["automation"]
    assert [(e["step"], e["outcome"]) for e in events] == [("rack", "done"), ("add", "done")]
    assert events[0]["why"] == "report 2 with the same hardware ([fleet] auto_rack_after): racked at dc1/a12 U14"
    audit = [json.loads(line) for line in (store.root / "audit.log").read_text().splitlines()]
    assert [(a["actor"], a["operation"], a["outcome"]) for a in audit] == [
        ("automation", "machine_auto_rack", "ok"), ("automation", "machine_auto_add", "ok")]  # fmt: skip


def test_new_hardware_and_a_counter_reset_count_the_reports_anew(site):
    store = automated(site, auto_rack_after=2)
    client = Client(store)
    assert store.heartbeat("DELL1").counted == 1
    client.post_json("/api/v1/report", dell_report(memory={"total_mb": 196608}), remote=LIVE)  # half the memory: new hardware
    assert store.heartbeat("DELL1").counted == 1 and machines.show(store, "DELL1")["automation"] == []
    assert main(["machine-report-counter-reset", "DELL1"], store_factory=lambda: store) == 0
    assert store.heartbeat("DELL1").counted == 0
    client.post_json("/api/v1/report", dell_report(memory={"total_mb": 196608}), remote=LIVE)
    client.post_json("/api/v1/report", dell_report(memory={"total_mb": 196608}), remote=LIVE)
    assert [e["step"] for e in machines.show(store, "DELL1")["automation"]] == ["rack"]


def test_a_refused_step_is_recorded_and_the_report_still_lands(site):
    store = automated(site, auto_add_after=2)
    store.config.hardware_profiles.write_text("")  # no profile: no role
    status, reply = Client(store).post_json("/api/v1/report", dell_report(), remote=LIVE)
    assert (status, reply["data"]["result"]) == (200, "seen")
    [event] = machines.show(store, "DELL1")["automation"]
    assert (event["step"], event["outcome"]) == ("add", "refused")
    assert event["why"].endswith("no role for DELL1: no hardware profile fits it")


def test_off_by_default(site):
    for _ in range(20):
        reports.record(site, v1.parse(dell_report()), IPv4Address(LIVE), NOW)
        assert automation.after_report(site, "DELL1", operations.execute) is None
    assert site.get(Machine, "DELL1").enrolment is None
