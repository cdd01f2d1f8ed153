"""cluster-install: the order of the stages (golden files for the ENC goldens' cluster shapes:
tests/data/golden/cluster-install/<shape>.txt; after a deliberate change run ``OCI_UPDATE_GOLDEN=1 make check``
and review the diff), and the loop that installs them, driven by writing the machines' statuses between two
reads as the nodes would (service/status.py ``record``): no clock, no sleep."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from test_enc import SHAPES, build

from conftest import REPO
from oci.cli.clusterinstall import LiveTable
from oci.cli.main import main
from oci.errors import NotFound
from oci.model import Cluster, Machine
from oci.service import clusterinstall, clusters
from oci.service import status as intake
from oci.service.clusterinstall import INSTALLED, PUPPET_SUCCESS, Candidate, Stage, order

GOLDEN = REPO / "tests" / "data" / "golden" / "cluster-install"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_golden_orders(store, discover, shape):
    build(store, discover, shape)
    text = clusterinstall.plan(store, "cl1")["text"]
    golden = GOLDEN / f"{shape}.txt"
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


def c(serial, role, status="live", hostname=None, cephosd=False):
    return Candidate(serial, hostname or f"{role}-{serial}.example.com", role, status, cephosd)


def test_only_live_machines_and_the_first_controller_alone_after_what_it_uses():
    found = order([c("A", "controller"), c("B", "controller"), c("C", "compute", "installed"), c("D", "compute"),
                   c("E", "compute", cephosd=True), c("F", "tempest"), c("G", "myrole"), c("H", "sql")], first_master="B")  # fmt: skip
    assert found == (
        Stage("ceph osds", ("E",), INSTALLED),  # a hyper-converged compute starts as an OSD (docs/enc.md)
        Stage("sql and messaging", ("H",), PUPPET_SUCCESS),  # the first controller's database
        Stage("first controller", ("B",), PUPPET_SUCCESS),
        Stage("controllers", ("A",), PUPPET_SUCCESS),
        Stage("compute and storage", ("D",), PUPPET_SUCCESS),
        Stage(clusterinstall.LAST_STAGE, ("G", "F"), None),  # by hostname
    )
    # The first controller is installed already: the other controllers keep their place.
    assert order([c("A", "controller"), c("B", "controller", "installed")], first_master="B") == (
        Stage("controllers", ("A",), PUPPET_SUCCESS),
    )
    assert order([c("A", "compute", "installing")], first_master=None) == ()


def test_refusals_unknown_cluster_and_nothing_to_install(store, discover, capsys):
    with pytest.raises(NotFound, match="nope"):
        clusterinstall.plan(store, "nope")
    build(store, discover, "minimal")
    for serial in ("CL1S00", "CL1S01", "CL1S02", "CL1S03", "CL1S04"):
        intake.record(store, serial, "installing", None, T0)
    assert clusterinstall.plan(store, "cl1")["stages"] == []
    assert main(["cluster-install", "cl1"], store_factory=lambda: store) == 0
    assert capsys.readouterr().out == "cluster cl1: no live machine to install\n"
    assert main(["cluster-install", "nope", "--dry-run"], store_factory=lambda: store) == 1
    assert "no cluster" in capsys.readouterr().err


def test_dry_run_prints_the_stages_and_changes_nothing(store, discover, capsys):
    build(store, discover, "ceph")
    before = sorted((p, p.read_bytes()) for p in store.root.rglob("machines/*"))
    assert main(["cluster-install", "cl1", "--dry-run"], store_factory=lambda: store) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. ceph monitors (wait until installed): cl1-cephmon-1.example.com, ")
    assert "\n3. first controller (wait for Puppet success): cl1-controller-1.example.com\n" in out
    assert out.endswith("dry run: nothing was changed\n")
    assert sorted((p, p.read_bytes()) for p in store.root.rglob("machines/*")) == before


class Nodes:
    """The cluster's nodes as the loop sees them: each step of ``advance`` moves every started machine one
    phase on (installing, firstboot, installed, puppet-running, puppet-success), unless told to fail."""

    PHASES = ("installing", "firstboot", "installed", "puppet-running", "puppet-success")

    def __init__(self, store):
        self.store, self.clock, self.log = store, T0, []
        self.fail: dict[str, str] = {}

    def now(self):
        self.clock += timedelta(seconds=10)
        return self.clock

    def install(self, serial):
        self.log.append(("install", serial))
        intake.record(self.store, serial, "installing", None, self.now())

    def read(self):
        return {row["serial"]: row for row in clusterinstall.progress(self.store, "cl1", self.clock)}

    def advance(self):
        for serial in [s for kind, s in self.log if kind == "install"]:
            machine = self.store.get(Machine, serial)
            phase = machine.puppet_status.value if machine.status.value == "installed" else machine.status.value
            current = {"running": "puppet-running", "success": "puppet-success", "notrun": "installed"}.get(phase, phase)
            if current not in self.PHASES or current == "puppet-success":
                continue
            following = self.PHASES[self.PHASES.index(current) + 1]
            if self.fail.get(serial) == following:
                if following == "firstboot":
                    intake.record(self.store, serial, "live", None, self.now(), step="partition", error="sfdisk: no disk")
                else:
                    intake.record(self.store, serial, "puppet-failure", None, self.now())
                continue
            intake.record(self.store, serial, following, None, self.now())
        self.log.append(("advance", None))
        return True


def test_stages_start_only_when_the_previous_one_is_done(store, discover):
    build(store, discover, "dedicated")
    nodes = Nodes(store)
    stages = order(clusterinstall.candidates(store, "cl1"), store.get(Cluster, "cl1").first_master)
    outcome = clusterinstall.run(stages, nodes.install, nodes.read, nodes.advance)
    assert outcome == clusterinstall.Outcome(started=tuple(s for st in stages for s in st.serials))
    # The sql and messaging nodes, then the first controller alone once they reached Puppet success (4 steps),
    # then the next stage once it did.
    backing = len(stages[0].serials)
    assert (stages[0].name, stages[1].serials) == ("sql and messaging", ("CL1S00",))
    installs = [i for i, (kind, _) in enumerate(nodes.log) if kind == "install"]
    last_backing, first, after = installs[backing - 1], installs[backing], installs[backing + 1]
    assert nodes.log[first] == ("install", "CL1S00")
    assert sum(1 for k, _ in nodes.log[last_backing:first] if k == "advance") == 4
    assert sum(1 for k, _ in nodes.log[first:after] if k == "advance") == 4
    assert all(store.get(Machine, s).puppet_status.value == "success" for s in outcome.started)


def test_a_puppet_failure_stops_before_the_next_stage(store, discover):
    build(store, discover, "minimal")
    nodes = Nodes(store)
    nodes.fail["CL1S00"] = "puppet-success"
    stages = order(clusterinstall.candidates(store, "cl1"), "CL1S00")
    outcome = clusterinstall.run(stages, nodes.install, nodes.read, nodes.advance)
    assert (outcome.failed, outcome.started) == ("CL1S00", ("CL1S00",))
    assert outcome.reason == "Puppet failed: no run report"
    assert store.get(Machine, "CL1S03").status.value == "live"  # the computes were never started


def test_an_install_failure_says_its_step(store, discover):
    build(store, discover, "minimal")
    nodes = Nodes(store)
    nodes.fail["CL1S01"] = "firstboot"
    outcome = clusterinstall.run(order(clusterinstall.candidates(store, "cl1"), "CL1S00"), nodes.install, nodes.read, nodes.advance)
    assert (outcome.failed, outcome.reason) == ("CL1S01", "install failed at partition: sfdisk: no disk")
    assert outcome.started == ("CL1S00", "CL1S01", "CL1S02")


def test_the_time_limit_names_who_was_awaited(store, discover):
    build(store, discover, "minimal")
    nodes = Nodes(store)
    outcome = clusterinstall.run(order(clusterinstall.candidates(store, "cl1"), "CL1S00"), nodes.install, nodes.read, lambda: False)
    assert outcome == clusterinstall.Outcome(started=("CL1S00",), timed_out=("CL1S00",))


def test_progress_rows(store, discover):
    build(store, discover, "minimal")
    intake.record(store, "CL1S00", "installing", None, T0)
    intake.record(store, "CL1S00", "live", None, T0 + timedelta(seconds=90), step="debootstrap", error="no mirror")
    row = {r["serial"]: r for r in clusterinstall.progress(store, "cl1", T0 + timedelta(seconds=100))}["CL1S00"]
    assert row == {"serial": "CL1S00", "hostname": "cl1-controller-1.example.com", "role": "controller", "status": "live",
                   "puppet_status": "notrun", "phase_seconds": 10, "install_error": "debootstrap: no mirror",
                   "puppet_error": None}  # fmt: skip
    assert clusterinstall.failure(row) == "install failed at debootstrap: no mirror"


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_live_table_redraws_in_place_on_a_terminal_and_prints_changes_in_a_pipe(store, discover):
    build(store, discover, "minimal")
    rows = {row["serial"]: row for row in clusterinstall.progress(store, "cl1", T0)}
    stages = order(clusterinstall.candidates(store, "cl1"), "CL1S00")
    screen = Terminal()
    table = LiveTable(screen, False, list(stages))
    table.begin("CL1S00")
    table.show(rows)
    table.show(rows)
    first, second = screen.getvalue().split("\x1b[")[0], screen.getvalue().split("\x1b[")[1]
    assert first.splitlines()[0].split() == ["machine", "role", "hostname", "status", "puppet", "in", "phase", "total"]
    assert first.splitlines()[-1] == "stage 1/3: first controller" and len(first.splitlines()) == 7
    assert second.startswith("7A") and screen.getvalue().endswith(first)
    pipe = io.StringIO()
    table = LiveTable(pipe, False, list(stages))
    table.show(rows)
    table.show(rows)  # nothing changed: nothing printed
    assert pipe.getvalue().splitlines()[0] == "cl1-compute-1.example.com (compute): live, puppet notrun"
    assert len(pipe.getvalue().splitlines()) == 5


def test_a_warning_of_an_install_start_shows_under_the_table_or_as_its_own_line(store, discover):
    build(store, discover, "minimal")
    rows = {row["serial"]: row for row in clusterinstall.progress(store, "cl1", T0)}
    stages = list(order(clusterinstall.candidates(store, "cl1"), "CL1S00"))
    warning = "the BMC did not take the boot device: timed out"
    screen = Terminal()
    table = LiveTable(screen, False, stages)
    table.warn("CL1S00", warning)
    assert screen.getvalue() == ""  # drawn with the table, below it, so that the redraw keeps it
    table.show(rows)
    assert screen.getvalue().splitlines()[-1] == f"warning: CL1S00: {warning}"
    pipe = io.StringIO()
    LiveTable(pipe, False, stages).warn("CL1S00", warning)
    assert pipe.getvalue() == f"warning: CL1S00: {warning}\n"
    lines = io.StringIO()
    LiveTable(lines, True, stages).warn("CL1S00", warning)
    assert json.loads(lines.getvalue()) == {"serial": "CL1S00", "warning": warning}


def test_cluster_reset_refuses_without_yes_and_reports_each_machine(store, discover, capsys):
    build(store, discover, "minimal")
    assert main(["cluster-reset", "cl1"], store_factory=lambda: store) == 1
    assert capsys.readouterr().err.strip().endswith("is not live into the live image (add --yes)")
    assert main(["cluster-reset", "cl1", "--yes"], store_factory=lambda: store) == 0
    assert capsys.readouterr().out == "cluster cl1: every machine is live, nothing to reset\n"
    intake.record(store, "CL1S03", "installing", None, T0)
    assert main(["cluster-reset", "cl1", "--yes"], store_factory=lambda: store) == 1
    out = capsys.readouterr().out
    assert out.startswith("cl1-compute-1.example.com: not rebooted: ") and "no BMC access" in out
    assert {r["serial"]: r["status"] for r in clusters.show_machines(store, "cl1")}["CL1S03"] == "installing"
