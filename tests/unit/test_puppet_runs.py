"""Puppet runs on the master: the reports of real Puppet 7 runs (tests/data/puppet-reports/) read into a
PuppetRun, the report route and its credentials, the intake of a run and of the node's puppet statuses, and
the reactions after a success (docs/puppet-runs.md)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, REPO, report_body, state_files
from oci import templates
from oci.cli.machines import EXIT_INSTALL_FAILED, EXIT_TIMED_OUT
from oci.cli.main import main
from oci.config import Config
from oci.errors import InvalidInput, NotFound
from oci.model import Enrolment, Machine, PuppetResult, PuppetRun, PuppetStatus
from oci.model.machine import MAX_ERROR_LENGTH, MAX_FAILED_RESOURCES
from oci.puppet import report
from oci.puppet.report import REPORT_TOKEN
from oci.service import install, machines, reactions, tokens
from oci.service import status as intake
from oci.store import Store
from wsgi_client import Client

REPORTS = REPO / "tests" / "data" / "puppet-reports"
GOLDEN = REPO / "tests" / "data" / "golden" / "cli"
FQDN = "cl1-controller-1.example.com"
TOKEN = "s3cret-report-token"


def captured(name: str, host: str = FQDN) -> str:
    return (REPORTS / f"{name}.yaml").read_text().replace("host: node1.example.com\n", f"host: {host}\n", 1)


# ---------------------------------------------------------------------------------------------- parsing
def test_a_run_that_changed_files():
    certname, run = report.parse(captured("changed"))
    assert certname == FQDN
    assert run == PuppetRun(datetime(2026, 12, 7, 3, 35, 13, tzinfo=UTC), run.seconds, PuppetResult.SUCCESS, changed=2)
    assert 0 < run.seconds < 60


def test_a_run_with_nothing_to_do():
    _, run = report.parse(captured("unchanged"))
    assert (run.result, run.changed, run.failed, run.failed_resources, run.error) == (PuppetResult.SUCCESS, 0, 0, (), None)


def test_a_failed_run_names_its_failed_resources_and_its_first_error():
    _, run = report.parse(captured("failed"))
    assert (run.result, run.changed, run.failed) == (PuppetResult.FAILURE, 1, 2)
    assert run.failed_resources == ("File[/tmp/runs-cap2/missing-folder/motd]", "Exec[oci-check-fails]")
    assert run.error is not None and run.error.startswith("Could not set 'file' on ensure: No such file or directory - A directory")
    assert "\n" not in run.error and len(run.error) <= MAX_ERROR_LENGTH


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (("transaction_completed: true", "transaction_completed: false"), None),
        (("cached_catalog_status: not_used", "cached_catalog_status: on_failure"), "the agent applied its cached catalog"),
    ],
)
def test_an_incomplete_run_or_one_on_the_cached_catalog_is_a_failure(change, error):
    _, run = report.parse(captured("unchanged").replace(*change))
    assert run.result is PuppetResult.FAILURE
    assert (run.error is None) if error is None else (error in str(run.error))


def test_a_failed_status_alone_is_a_failure():
    _, run = report.parse(captured("unchanged").replace("status: unchanged", "status: failed", 1))
    assert run.result is PuppetResult.FAILURE and run.failed == 0


def test_many_failed_resources_are_counted_and_a_few_kept():
    document = yaml.load(captured("failed"), Loader=report._ReportLoader)
    statuses = {f"File[/srv/{n}\nsecond line]": {"failed": True} for n in range(50)}
    document["resource_statuses"] = statuses
    _, run = report.parse(yaml.safe_dump(document))
    assert run.failed == 50 and len(run.failed_resources) == MAX_FAILED_RESOURCES
    assert run.failed_resources[0] == "File[/srv/0"  # one line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a Puppet run report"),
        ("[1, 2]", "not a Puppet run report"),
        ("host: a.example.com\nstatus: [\n", "not valid YAML at line"),
        ("--- !ruby/object:Puppet::Transaction::Report\nhost: a.example.com\n", "no host and status"),
        ("host: a\nstatus: changed\ntime: '2026-12-07T03:35:13Z'\n", "host 'a' is not a host name"),
        ("host: a.example.com\nstatus: weird\ntime: '2026-12-07T03:35:13Z'\n", "status 'weird' is not one of"),
        ("host: a.example.com\nstatus: changed\ntime: yesterday\n", "time 'yesterday' is not a timestamp"),
        ("host: a.example.com\nstatus: changed\ntime: '2026-12-07T03:35:13'\n", "has no time zone"),
        ("host: a.example.com\nstatus: changed\ntime: '2026-12-07T03:35:13Z'\nmetrics: {resources: {values: [[changed, C, -1]]}}\n",
         "changed resources -1 is not a count"),
        ("host: a.example.com\nstatus: changed\ntime: '2026-12-07T03:35:13Z'\nmetrics: {time: {values: [[total, T, .nan]]}}\n",
         "total time nan is not a duration"),
        ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_what_is_not_a_report_is_one_line(text, message):
    with pytest.raises(InvalidInput, match=message) as caught:
        report.parse(text)
    assert "\n" not in caught.value.message


def test_ruby_tags_never_make_objects():
    text = "--- !ruby/object:Kernel\nhost: !ruby/string:Evil a.example.com\nstatus: changed\ntime: '2026-12-07T03:35:13Z'\n"
    assert report.parse(text)[0] == "a.example.com"


@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=300)
@given(
    st.one_of(
        st.text(max_size=300),
        st.builds(lambda cut, junk: captured("failed")[:cut] + junk, st.integers(0, 11000), st.text(max_size=40)),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["host", "status", "time", "metrics", "values",
                "resources", "logs", "level", "message", "resource_statuses", "failed", "total"]), inner, max_size=5),
            max_leaves=30,
        ).map(lambda value: yaml.safe_dump(value)),
    )
)  # fmt: skip
def test_fuzzed_reports_give_a_run_or_one_invalid_input_line(text):
    try:
        certname, run = report.parse(text)
    except InvalidInput as exc:
        message = exc.message
    else:
        assert isinstance(run, PuppetRun) and certname
        return
    assert "\n" not in message


# ---------------------------------------------------------------------------------------------- the route
@pytest.fixture
def site(tmp_path):
    """C1, enrolled as FQDN, installed; the report token set up. The master's address is 192.168.100.2."""
    store = Store(tmp_path / "state", lock_timeout=10, config=Config(master_address=IPv4Address("192.168.100.2")))
    client = Client(store)
    assert client.post_json("/api/v1/report", report_body("C1"))[0] == 200
    with store.machine_lock(["C1"]):
        store.write_machine(replace(store.get(Machine, "C1"), enrolment=Enrolment("cl1", "controller", "dc1", FQDN)))
    store.write_blob(*REPORT_TOKEN, data=TOKEN.encode() + b"\n", mode=0o600)
    return store


def basic(user: str = "puppetserver", password: str = TOKEN) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def send(store, text, headers=None, remote="127.0.0.1", when=NOW):
    client = Client(store)
    client.when = when
    headers = {"Content-Type": "application/x-yaml", **(basic() if headers is None else headers)}
    code, _, payload = client.request("POST", "/api/v1/puppet/report", text.encode(), remote=remote, headers=headers)
    return code, json.loads(payload)


def test_a_report_becomes_the_machines_last_run_and_its_puppet_status(site):
    code, reply = send(site, captured("failed"))
    assert code == 200, reply
    assert reply["data"] == {"serial": "C1", "hostname": FQDN, "puppet_status": "failure", "result": "failure"}
    machine = site.get(Machine, "C1")
    assert machine.puppet_run == report.parse(captured("failed"))[1]
    assert machine.history[-1].status == "puppet-failure"
    assert machine.history[-1].detail.startswith("puppet run failed: Could not set 'file'")
    assert send(site, captured("changed"), when=NOW + timedelta(minutes=30))[0] == 200
    machine = site.get(Machine, "C1")
    assert (machine.puppet_status, machine.puppet_run.changed) == (PuppetStatus.SUCCESS, 2)
    assert [h.status for h in machine.history][-2:] == ["puppet-failure", "puppet-success"]
    send(site, captured("unchanged"), when=NOW + timedelta(minutes=60))
    assert [h.status for h in site.get(Machine, "C1").history][-2:] == ["puppet-failure", "puppet-success"]  # no new line


@pytest.mark.parametrize(
    ("headers", "remote", "code", "message"),
    [
        ({}, "127.0.0.1", 401, "authentication required: the Puppet server's basic auth"),
        ({"Authorization": "Bearer " + TOKEN}, "127.0.0.1", 401, "authentication required"),
        ({"Authorization": "Basic %%%"}, "127.0.0.1", 401, "authentication required"),
        (basic(password="wrong"), "127.0.0.1", 401, "invalid Puppet report credentials"),
        (basic(user="admin"), "127.0.0.1", 401, "invalid Puppet report credentials"),
        (basic(), "192.168.100.20", 403, "admin requests over plain HTTP are accepted only from 127.0.0.0/8, 192.168.100.2/32"),
    ],
)
def test_refused_reports_change_nothing(site, headers, remote, code, message):
    before = state_files(site)
    got, reply = send(site, captured("failed"), headers=headers, remote=remote)
    assert (got, reply["message"]) == (code, message) or (got == code and reply["message"].startswith(message)), reply
    assert state_files(site) == before


def test_the_masters_own_address_may_send_reports_over_plain_http(site):
    """A master's API listens on its provisioning address only: its Puppet server, on the same host, reaches it
    there, and the connection's source is that address, never a network's."""
    assert send(site, captured("changed"), remote="192.168.100.2")[0] == 200


def test_without_the_token_file_reports_are_refused(site):
    site.remove_blob(*REPORT_TOKEN)
    code, reply = send(site, captured("failed"))
    assert (code, reply["message"], reply["hint"]) == (401, "Puppet reports are not set up on this master", "run oci-puppet-setup")


def test_a_report_for_an_unknown_certname_is_404_and_writes_nothing(site):
    before = state_files(site)
    code, reply = send(site, captured("failed", host="stranger.example.com"))
    assert (code, reply["message"]) == (404, "no machine is enrolled as stranger.example.com")
    code, reply = send(site, "not: [a report")
    assert code == 400 and reply["message"].startswith("Puppet report: not valid YAML")
    assert state_files(site) == before


def test_a_report_too_large_is_refused_before_it_is_read(site):
    client = Client(site)
    code, _, payload = client.request("POST", "/api/v1/puppet/report", b"x", remote="127.0.0.1", length=str(report.MAX_REPORT_BYTES + 1),
                                      headers=basic())  # fmt: skip
    assert code == 413 and "larger than" in json.loads(payload)["message"]


# ---------------------------------------------------------------------------------------------- the intake
@pytest.fixture
def successes(monkeypatch):
    """The serials after_puppet_success is called for (the reactions' body is the cluster work's)."""
    called: list[str] = []
    monkeypatch.setattr(reactions, "after_puppet_success", lambda store, serial: called.append(serial))
    return called


def test_while_the_first_boot_unit_runs_puppet_a_report_changes_only_the_last_run(site, successes):
    intake.record(site, "C1", "puppet-running", None, NOW)
    send(site, captured("failed"))
    machine = site.get(Machine, "C1")
    assert machine.puppet_status is PuppetStatus.RUNNING and machine.puppet_run.result is PuppetResult.FAILURE
    assert machine.history[-1].status == "puppet-running"
    send(site, captured("changed"))
    assert site.get(Machine, "C1").puppet_status is PuppetStatus.RUNNING and successes == []
    intake.record(site, "C1", "puppet-success", None, NOW + timedelta(seconds=5))
    assert successes == ["C1"]
    intake.record(site, "C1", "puppet-success", None, NOW + timedelta(seconds=6))  # said twice: no second reaction
    send(site, captured("unchanged"))  # a later run, still a success
    assert successes == ["C1"]


def test_a_report_that_turns_a_failure_into_a_success_sets_off_the_reactions_once(site, successes):
    send(site, captured("failed"))
    assert successes == []
    send(site, captured("changed"))
    send(site, captured("unchanged"))
    assert successes == ["C1"]


def test_the_reactions_run_after_the_machine_is_written_and_unlocked(site, monkeypatch):
    seen = []

    def reaction(store, serial):
        with store.machine_lock([serial]):  # would time out if the intake still held it
            seen.append(store.get(Machine, serial).puppet_status)

    monkeypatch.setattr(reactions, "after_puppet_success", reaction)
    send(site, captured("changed"))
    assert seen == [PuppetStatus.SUCCESS]


def test_puppet_failure_may_carry_its_error_line(site, successes):
    error = "Could not retrieve catalog from remote server: Error 500 on SERVER: Server Error: Evaluation Error"
    code, reply = Client(site).post_json("/api/v1/status", {"version": 1, "serial": "C1", "status": "puppet-failure", "error": error})
    assert code == 200, reply
    machine = site.get(Machine, "C1")
    assert (machine.puppet_status, machine.history[-1].detail) == (PuppetStatus.FAILURE, f"puppet run failed: {error}")
    code, reply = Client(site).post_json("/api/v1/status", {"version": 1, "serial": "C1", "status": "puppet-success", "error": "x"})
    assert code == 400 and reply["message"].startswith("error: only with status live (an install that failed) or puppet-failure")
    assert successes == []


def test_an_unknown_certname_in_the_intake(site):
    run = report.parse(captured("changed"))[1]
    with pytest.raises(NotFound, match="^no machine is enrolled as other.example.com$"):
        intake.record_puppet_run(site, "other.example.com", run, NOW)


# ---------------------------------------------------------------------------------------------- machine-show
def test_machine_show_has_the_last_run(site):
    send(site, captured("failed"))
    shown = machines.show(site, "C1")["puppet_run"]
    assert shown["result"] == "failure" and shown["failed"] == 2 and shown["at"] == "2026-12-07T03:36:46Z"
    assert shown["failed_resources"] == ["File[/tmp/runs-cap2/missing-folder/motd]", "Exec[oci-check-fails]"]


def show_text(store, capsys, *extra):
    assert main(["machine-show", "C1", *extra], store_factory=lambda: store) == 0
    return capsys.readouterr().out


def test_machine_show_prints_the_last_run(site, capsys):
    send(site, captured("failed"))
    lines = show_text(site, capsys).splitlines(keepends=True)
    start = lines.index("puppet_run:\n")
    text = "".join(lines[start : start + 1 + next(i for i, line in enumerate(lines[start + 1 :]) if not line.startswith("  "))])
    golden = GOLDEN / "machine-show_puppet-failed.txt"
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


# ---------------------------------------------------------------------------------------------- machine-wait-for-puppet
def wait(store, capsys, *machines_, timeout="3600"):
    code = main(["machine-wait-for-puppet", "--interval", "0.01", "--timeout", timeout, *machines_], store_factory=lambda: store)
    return code, capsys.readouterr()


def set_phase(store, value, serial="C1", **fields):
    intake.record(store, serial, value, None, NOW, **fields)


def test_wait_for_puppet_exits_0_when_every_run_succeeded(site, capsys, successes):
    set_phase(site, "installed")
    set_phase(site, "puppet-running")
    send(site, captured("changed"))  # a run while the unit retries: only the last run
    set_phase(site, "puppet-success")
    code, out = wait(site, capsys, "C1", FQDN)
    assert code == 0, out
    first = out.out.splitlines()[0]
    assert first.startswith(f"{FQDN}: puppet succeeded (last run 2026-12-07T03:35:13Z, ") and first.endswith("s, 2 changed)")
    assert out.out.splitlines()[-1] == f"puppet succeeded: C1, {FQDN}"


def test_wait_for_puppet_exits_4_with_the_error_line_when_a_run_failed(site, capsys, successes):
    set_phase(site, "installed")
    set_phase(site, "puppet-running")
    set_phase(site, "puppet-failure", error="Could not retrieve catalog; skipping run")
    code, out = wait(site, capsys, "C1")
    assert code == EXIT_INSTALL_FAILED
    line = f"{FQDN}: puppet failed: puppet run failed: Could not retrieve catalog; skipping run"
    assert out.out.splitlines() == [line, "puppet failed: C1"]


def test_wait_for_puppet_exits_4_for_a_machine_that_is_not_being_installed(site, capsys):
    code, out = wait(site, capsys, "C1")
    assert code == EXIT_INSTALL_FAILED and out.out.startswith(f"{FQDN}: live: not being installed, so Puppet will not run\n")


def test_wait_for_puppet_exits_5_on_timeout(site, capsys):
    set_phase(site, "installed")
    set_phase(site, "puppet-running")
    code, out = wait(site, capsys, "C1", timeout="0.05")
    assert code == EXIT_TIMED_OUT
    assert out.out.splitlines() == [f"{FQDN}: puppet running", "timed out after 0.05 s; still waiting for: C1"]


def test_wait_for_puppet_over_http(site, successes):
    set_phase(site, "installed")
    set_phase(site, "puppet-failure", error="boom")
    token = tokens.create(site, "waiter", NOW)
    code, reply = Client(site).get_json("/api/v1/machines/C1/puppet", remote="127.0.0.1", token=token)
    assert code == 200 and (reply["data"]["puppet_status"], reply["data"]["error"]) == ("failure", "puppet run failed: boom")


# ---------------------------------------------------------------------------------------------- the first-run unit and script
@pytest.mark.parametrize("name", ["oci-puppet-first-run.service", "oci-puppet-first-run.sh"])
def test_the_first_run_unit_and_script_as_the_bundle_carries_them(name):
    chosen = templates.load(None)
    if name.endswith(".service"):
        text = install.puppet_run_unit(chosen)
    else:
        text = install.puppet_run_script("http://192.168.100.2:8080/api/v1/status", 3, 3600, chosen)
        assert subprocess.run(["sh", "-n"], input=text, text=True, capture_output=True).returncode == 0  # POSIX sh syntax
    golden = REPO / "tests" / "data" / "golden" / "install" / name
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
