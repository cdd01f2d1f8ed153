"""An install's progress on the master: the status protocol's step, seconds and error fields (POST
/api/v1/status), the install record they build, machine-show's install, oci-report-status's options."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, REPO, report_body, state_files
from oci.agent import status as report_status
from oci.cli.main import main
from oci.errors import InvalidState
from oci.model import Machine, MachineStatus, Phase, PuppetStatus
from oci.model.machine import MAX_INSTALL_STEPS, InstallRecord, InstallStep
from oci.service import machines
from oci.service import status as intake
from oci.store import Store
from wsgi_client import Client

GOLDEN = REPO / "tests" / "data" / "golden" / "cli"
STEPS = ("check-disks", "wipe", "partition", "filesystems", "mount", "debootstrap", "chroot-mounts", "packages", "files", "bootloader",
         "units", "unmount")  # fmt: skip


@pytest.fixture
def client(store):
    c = Client(store)
    code, _ = c.post_json("/api/v1/report", report_body("C1"))
    assert code == 200
    return c


def post(client, value, at=0, **fields):
    """A status report of C1, ``at`` seconds after NOW on the master's clock."""
    client.when = NOW + timedelta(seconds=at)
    code, reply = client.post_json("/api/v1/status", {"version": 1, "serial": "C1", "status": value, **fields})
    assert code == 200, reply
    return reply


def install(client, steps=STEPS, start=0):
    """The installer's reports for ``steps``, from ``start``: each takes 2.5 s on the node, 3 s as the master
    sees them come (its clock, whole seconds as in state files)."""
    at = start
    for name in steps:
        post(client, "installing", at, step=name)
        at += 3
        post(client, "installing", at, step=name, seconds=2.5)
    return at


def stamp(store, serial="C1"):
    st_ = (store.root / "machines" / f"{serial}.yaml").stat()
    return st_.st_ino, st_.st_mtime_ns


def test_steps_start_and_end_into_the_install_record(client, store):
    post(client, "installing", 0)
    post(client, "installing", 1, step="check-disks")
    record = store.get(Machine, "C1").install
    assert record == InstallRecord(NOW, (InstallStep("check-disks", NOW + timedelta(seconds=1)),))
    post(client, "installing", 2, step="check-disks", seconds=1.254)
    post(client, "installing", 3, step="wipe")
    record = store.get(Machine, "C1").install
    assert [(s.name, s.seconds) for s in record.steps] == [("check-disks", 1.25), ("wipe", None)]
    machine = store.get(Machine, "C1")
    assert (machine.status, machine.puppet_status) == (MachineStatus.INSTALLING, PuppetStatus.NOTRUN)
    assert [h.status for h in machine.history] == ["live", "installing"]  # steps are not history lines


def test_a_whole_install_then_its_first_boot(client, store):
    end = install(client)
    post(client, "firstboot", end + 1)
    post(client, "installed", end + 61, address="192.168.101.2")
    machine = store.get(Machine, "C1")
    assert machine.status is MachineStatus.INSTALLED
    view = machines.show(store, "C1")["install"]
    assert (view["state"], view["seconds"], view["step"], view["failed_step"]) == ("done", 37, None, None)
    assert [(s["name"], s["seconds"], s["state"]) for s in view["steps"]] == [(name, 2.5, "done") for name in STEPS]
    assert [h["status"] for h in machines.show(store, "C1")["history"]] == ["live", "installing", "firstboot", "installed"]


def test_a_failed_step_puts_the_machine_back_to_live_with_the_step_in_its_history(client, store):
    install(client, STEPS[:2])
    post(client, "installing", 5, step="partition")
    error = "sfdisk: /dev/vda: cannot write the partition table (device busy)"
    reply = post(client, "live", 7, step="partition", error=error)
    assert reply["data"]["status"] == "live"
    machine = store.get(Machine, "C1")
    assert machine.status is MachineStatus.LIVE
    assert machine.history[-1].status == "live"
    assert machine.history[-1].detail == f"install failed at partition: {error}"
    assert (machine.install.failed_step, machine.install.error, machine.install.finished) == (
        "partition",
        error,
        NOW + timedelta(seconds=7),
    )
    view = machines.show(store, "C1")["install"]
    assert (view["state"], view["seconds"], view["steps"][-1]["state"]) == ("failed", 7, "failed")
    before = stamp(store)
    post(client, "live", 8, step="partition", error=error)  # the node said it twice
    assert stamp(store) == before


def test_each_install_gets_a_new_record(client, store):
    post(client, "installing", 0, step="check-disks")
    post(client, "live", 1, step="check-disks", error="no disk")
    failed = store.get(Machine, "C1").install
    post(client, "installing", 100)  # machine-install-os again
    assert store.get(Machine, "C1").install == InstallRecord(NOW + timedelta(seconds=100))
    end = install(client, STEPS[:3], start=101)
    post(client, "firstboot", end)
    done = store.get(Machine, "C1").install
    assert done.started == NOW + timedelta(seconds=100) and len(done.steps) == 3 and done != failed
    post(client, "installing", end + 10, step="check-disks")  # an install straight after: a new record
    again = NOW + timedelta(seconds=end + 10)
    assert store.get(Machine, "C1").install == InstallRecord(again, (InstallStep("check-disks", again),))


def test_a_step_seen_again_means_the_installer_started_again(client, store):
    install(client, STEPS[:2])
    post(client, "installing", 10, step="check-disks")
    record = store.get(Machine, "C1").install
    assert record.started == NOW + timedelta(seconds=10) and [s.name for s in record.steps] == ["check-disks"]


def test_repeated_reports_write_nothing_and_an_unheard_start_is_dated_back(client, store):
    post(client, "installing", 0, step="wipe")
    before = stamp(store)
    post(client, "installing", 1, step="wipe")
    assert stamp(store) == before
    post(client, "installing", 4, step="wipe", seconds=4)
    after_end = stamp(store)
    post(client, "installing", 5, step="wipe", seconds=4)
    assert stamp(store) == after_end
    post(client, "installing", 10, step="mount", seconds=2)  # its start was lost
    assert store.get(Machine, "C1").install.steps[-1] == InstallStep("mount", NOW + timedelta(seconds=8), 2.0)


def test_the_number_of_steps_is_bounded(client, store):
    names = [f"s{i}" for i in range(MAX_INSTALL_STEPS)]
    for i, name in enumerate(names):
        post(client, "installing", i, step=name)
    before = state_files(store)
    code, reply = client.post_json("/api/v1/status", {"serial": "C1", "status": "installing", "step": "one-more"})
    assert code == 400 and reply["message"] == f"step: this install already has {MAX_INSTALL_STEPS} steps"
    assert state_files(store) == before


BAD = [
    ({"status": "installing", "step": "Partition"}, "step: 'Partition' is not a step name"),
    ({"status": "installing", "step": "a" * 33}, "is not a step name"),
    ({"status": "installing", "step": "x\ny"}, "step: 'x\\ny' is not a step name"),
    ({"status": "installing", "step": 3}, "step: 3 is not a step name"),
    (
        {"status": "installed", "step": "partition"},
        "step: only with status installing (a step's progress) or live (its failure), not installed",
    ),
    ({"status": "puppet-running", "step": "partition"}, "not puppet-running"),
    ({"status": "installing", "seconds": 1}, "seconds: only with a step and status installing"),
    ({"status": "live", "step": "wipe", "seconds": 1, "error": "x"}, "seconds: only with a step and status installing"),
    ({"status": "installing", "step": "wipe", "seconds": "1"}, "seconds: '1' is not a number"),
    ({"status": "installing", "step": "wipe", "seconds": True}, "seconds: True is not a number"),
    ({"status": "installing", "step": "wipe", "seconds": -1}, "seconds: -1 is not a duration between 0 and 1000000"),
    ({"status": "installing", "step": "wipe", "seconds": 10**400}, "is not a duration between 0 and 1000000"),
    ({"status": "installing", "step": "wipe", "seconds": 2e6}, "is not a duration"),
    ({"status": "installing", "error": "boom"}, "error: only with status live (an install that failed)"),
    ({"status": "firstboot", "error": "boom"}, "error: only with status live"),
    ({"status": "live", "step": "wipe"}, "error: required with a step and status live (why the step failed)"),
    ({"status": "live", "step": "wipe", "error": ""}, "error: '' is not a line of text"),
    ({"status": "live", "step": "wipe", "error": 42}, "error: 42 is not a line of text"),
    ({"status": "live", "step": "wipe", "error": "first\nsecond"}, "error: 'first\\nsecond' is not one line of text"),
    ({"status": "live", "step": "wipe", "error": "a\u2028b"}, "is not one line of text"),
    ({"status": "live", "step": "wipe", "error": "x" * 301}, "error: longer than 300 characters"),
    ({"status": "live", "step": "wipe", "error": "x", "why": "y"}, "status: unknown key(s) why"),
]


@pytest.mark.parametrize(("fields", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_install_fields_are_refused_in_one_line_and_write_nothing(client, store, fields, message):
    post(client, "installing", 0, step="check-disks")
    before = state_files(store)
    code, reply = client.post_json("/api/v1/status", {"version": 1, "serial": "C1", **fields})
    assert code == 400 and message in reply["message"], reply
    assert "\n" not in reply["message"]
    assert state_files(store) == before


def test_the_longest_error_is_kept_whole(client, store):
    post(client, "live", 0, step="packages", error="é" * 300)
    assert store.get(Machine, "C1").install.error == "é" * 300


def test_the_oci42_route_keeps_working(client, store):
    code, reply = client.get_json("/oci/install-status.php?status=installing&chassis-serial=C1", remote="192.168.100.20")
    assert code == 200, reply
    machine = store.get(Machine, "C1")
    assert machine.status is MachineStatus.INSTALLING and machine.install == InstallRecord(NOW)


# -------------------------------------------------------------------------------------------- state files
def test_a_machine_file_of_before_loads_and_the_codec_stays_strict(client, store):
    path = store.root / "machines" / "C1.yaml"
    document = yaml.safe_load(path.read_text())
    assert "install" not in document and all("detail" not in h for h in document["history"])
    assert store.get(Machine, "C1").install is None
    install(client, STEPS[:1])
    post(client, "live", 9, step="wipe", error="wipefs: /dev/vda: busy")
    document = yaml.safe_load(path.read_text())
    assert document["install"]["failed_step"] == "wipe" and document["history"][-1]["detail"].startswith("install failed at wipe")
    for broken in ({"colour": 1}, {"steps": [{"name": "wipe", "started": "2026-11-25T12:00:00Z", "extra": 1}]},
                   {"error": "x" * 301}, {"steps": [{"name": "BAD", "started": "2026-11-25T12:00:00Z"}]}):  # fmt: skip
        path.write_text(yaml.safe_dump({**document, "install": {**document["install"], **broken}}))
        fresh = Store(store.root, lock_timeout=10)
        with pytest.raises(InvalidState, match=r"machines/C1.yaml: key 'install"):
            fresh.get(Machine, "C1")


def test_begin_install_is_what_the_first_installing_report_does(client, store):
    machine = store.get(Machine, "C1")
    begun = intake.begin_install(machine, NOW)
    assert begun == intake.apply(machine, Phase.INSTALLING, intake.StepReport(), None, NOW)
    assert begun.status is MachineStatus.INSTALLING and begun.install == InstallRecord(NOW)
    assert intake.apply(begun, Phase.INSTALLING, intake.StepReport(), None, NOW + timedelta(seconds=5)) == begun


INSTALLED_KEY = "ssh-ed25519 " + "B" * 68


def test_the_installed_system_key_becomes_the_machines_at_installed(client, store):
    """The live image's key stays the machine's while it installs (the live node still signs with it); the
    installed system's, kept by the install record, from its ``installed`` report on."""
    live_key = "ssh-ed25519 " + "A" * 68
    with store.machine_lock(["C1"]):
        store.write_machine(intake.begin_install(replace(store.get(Machine, "C1"), host_key=live_key), NOW, INSTALLED_KEY))
    end = install(client)
    post(client, "firstboot", end + 1)
    assert store.get(Machine, "C1").host_key == live_key
    post(client, "installed", end + 61)
    machine = store.get(Machine, "C1")
    assert (machine.host_key, machine.install.host_key) == (INSTALLED_KEY, INSTALLED_KEY)


def test_a_failed_install_keeps_the_live_key(client, store):
    with store.machine_lock(["C1"]):
        store.write_machine(intake.begin_install(store.get(Machine, "C1"), NOW, INSTALLED_KEY))
    post(client, "installing", 1, step="wipe")
    post(client, "live", 2, step="wipe", error="wipefs: /dev/vda: busy")
    post(client, "installed", 3)  # a stray report: the failed install's key is not the system's
    assert store.get(Machine, "C1").host_key is None


def test_an_install_record_refuses_what_is_not_an_ed25519_key():
    with pytest.raises(ValueError, match="host_key: not an ssh-ed25519 public key"):
        InstallRecord(NOW, host_key="ssh-rsa AAAA")


# --------------------------------------------------------------------------------------------- fuzzing
fields = st.fixed_dictionaries(
    {"serial": st.just("C1"), "status": st.sampled_from([p.value for p in Phase])},
    optional={
        "step": st.sampled_from(["wipe", "partition", "Wipe", "", "a" * 40, None, 1]) | st.text(max_size=8),
        "seconds": st.sampled_from([0, 1.5, -1, 1e300, 10**30, "2", None, True]) | st.floats(allow_nan=False, allow_infinity=False),
        "error": st.sampled_from(["boom", "", "a\nb", "x" * 301, None, 0]) | st.text(max_size=20),
        "address": st.sampled_from(["192.168.101.2", "x", None]),
    },
)


@settings(deadline=None, derandomize=True, database=None, max_examples=300, suppress_health_check=list(HealthCheck))
@given(body=fields)
def test_fuzzed_status_reports_never_5xx_and_refusals_change_nothing(tmp_path_factory, body):
    store = Store(Path(tmp_path_factory.mktemp("fuzz")), lock_timeout=10)
    client = Client(store)
    assert client.post_json("/api/v1/report", report_body("C1"))[0] == 200
    before = state_files(store)
    code, _, payload = client.request("POST", "/api/v1/status", json.dumps(body).encode())
    reply = json.loads(payload)
    assert code < 500 and "\n" not in reply["message"], reply
    if code != 200:
        assert state_files(store) == before
    else:
        store.get(Machine, "C1")  # what was written loads back


# ----------------------------------------------------------------------------------------- machine-show
def show_text(store, capsys, *extra):
    assert main(["machine-show", "C1", *extra], store_factory=lambda: store) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("case", ["failed", "done"])
def test_machine_show_prints_the_install(client, store, capsys, case):
    end = install(client, STEPS[:4] if case == "failed" else STEPS)
    if case == "failed":
        post(client, "installing", end, step="mount")
        post(client, "live", end + 3, step="mount", error="mount: /target: wrong fs type, bad option, bad superblock on /dev/vda3")
    else:
        post(client, "firstboot", end + 1)
    lines = show_text(store, capsys).splitlines(keepends=True)
    text = "".join(lines[lines.index("history:\n") : lines.index("enrolment      -\n")])  # the parts an install writes
    data = json.loads(show_text(store, capsys, "--json"))
    for suffix, content in (("txt", text), ("json", json.dumps(data["install"], indent=2, sort_keys=True) + "\n")):
        golden = GOLDEN / f"machine-show_install-{case}.{suffix}"
        if os.environ.get("OCI_UPDATE_GOLDEN"):
            golden.write_text(content)
        assert content == golden.read_text()


def test_machine_show_of_a_running_install(client, store, capsys):
    install(client, STEPS[:2])
    post(client, "installing", 5, step="partition")
    text = show_text(store, capsys)
    assert "  check-disks  2.50s\n" in text and "  partition    (running)\n" in text
    assert ", in partition\n" in text and "started  2026-11-25T12:00:00Z, running for " in text


# ------------------------------------------------------------------------------------ oci-report-status
def test_oci_report_status_sends_the_step_fields():
    sent = []

    def capture(url, body):
        sent.append((url, json.loads(body)))
        return 200, "{}"

    base = ["--server", "http://m:8080", "--serial", "C1"]
    assert report_status.main(["installing", "--step", "wipe", *base], post=capture) == 0
    assert report_status.main(["installing", "--step", "wipe", "--seconds", "0", *base], post=capture) == 0
    assert report_status.main(["live", "--step", "wipe", "--error", "wipefs: busy", *base], post=capture) == 0
    assert [body for _, body in sent] == [
        {"version": 1, "serial": "C1", "status": "installing", "step": "wipe"},
        {"version": 1, "serial": "C1", "status": "installing", "step": "wipe", "seconds": 0.0},
        {"version": 1, "serial": "C1", "status": "live", "step": "wipe", "error": "wipefs: busy"},
    ]
    assert sent[0][0] == "http://m:8080/api/v1/status"


def test_oci_report_status_refuses_a_duration_that_is_not_a_number(capsys):
    with pytest.raises(SystemExit) as exit_:
        report_status.main(["installing", "--step", "wipe", "--seconds", "٣", "--serial", "C1"], post=lambda u, b: (200, "{}"))
    assert exit_.value.code == 2 and "is not a number of seconds" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------- install log
@pytest.mark.parametrize("text", ["abc", "é", "€", "𝄞", "a€", "€€b"])
def test_a_log_chunk_never_ends_inside_a_character(text):
    from oci.service.installlog import whole_characters

    data = text.encode()
    for cut in range(len(data) + 1):
        kept = whole_characters(data[:cut])
        assert data.startswith(kept) and kept.decode() == text[: len(kept.decode())]
        assert cut - len(kept) < 4 and (cut == len(data)) <= (kept == data)
    assert whole_characters(b"\xff") == b"\xff" and whole_characters(b"\x80\x80\x80\x80") == b"\x80\x80\x80\x80"  # not UTF-8: kept
