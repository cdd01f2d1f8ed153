"""``cluster-install``: the order a cluster's live machines are installed in, and the loop that installs them
stage by stage (docs/puppet-runs.md, "The cluster").

The order is OCI 42's (reference §13.2), adapted: what the controllers use comes first (the Ceph monitors
and OSDs, Glance's and Cinder's store; the SQL and messaging nodes, their database and queues), then the
first controller alone until its Puppet run succeeds (it bootstraps Keystone and the databases' schemas),
the other controllers, the network nodes, the nodes that register with the controllers, and last the
helpers nobody waits for.

``run`` holds no clock and no store: it installs through one callback and reads the machines through
another, so the CLI drives it through either backend and the tests drive it by writing statuses between
two reads, as the nodes would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from oci import names
from oci.model import Cluster, Machine, MachineStatus
from oci.model.machine import PuppetResult
from oci.naming import natural_key
from oci.store import Store

INSTALLED, PUPPET_SUCCESS = "installed", "puppet-success"


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the order reads of an enrolled machine."""

    serial: str
    hostname: str
    role: str
    status: str
    compute_is_cephosd: bool = False


@dataclass(frozen=True, slots=True)
class Stage:
    """Machines installed together; the next stage starts once each of them reached ``wait_for``
    (``installed``, ``puppet-success``), or at once when it is None."""

    name: str
    serials: tuple[str, ...]
    wait_for: str | None


FIRST_CONTROLLER = "first controller"
# (stage, roles, what the next stage waits for); the first controller's own stage comes where its name is
_STAGES: tuple[tuple[str, frozenset[str], str | None], ...] = (
    ("ceph monitors", frozenset({"cephmon"}), INSTALLED),
    ("ceph osds", frozenset({"cephosd"}), INSTALLED),
    ("sql and messaging", frozenset({"sql", "messaging"}), PUPPET_SUCCESS),
    (FIRST_CONTROLLER, frozenset(), PUPPET_SUCCESS),
    ("controllers", frozenset({"controller"}), PUPPET_SUCCESS),
    ("network nodes", frozenset({"network"}), PUPPET_SUCCESS),
    ("compute and storage", frozenset({"compute", "volume", "swiftproxy", "swiftstore"}), PUPPET_SUCCESS),
)
LAST_STAGE = "not waited for"  # dns, tempest, debmirror and the roles an operator made


def order(machines: Iterable[Candidate], first_master: str | None) -> tuple[Stage, ...]:
    """The stages that install the ``live`` machines among ``machines`` (pure). ``first_master``: the serial
    of the cluster's first controller; when it is not live, its stage is left out and the other controllers
    keep their place."""
    live = sorted((m for m in machines if m.status == MachineStatus.LIVE.value), key=lambda m: natural_key(m.hostname))
    controllers = [m for m in live if m.role == "controller"]
    first = next((m for m in controllers if m.serial == first_master), None)
    if first is None and first_master is None and controllers:
        first = controllers[0]
    stages: list[Stage] = []
    placed = {first.serial} if first else set()
    for name, roles, wait_for in _STAGES:
        if name == FIRST_CONTROLLER:
            stages += [Stage(name, (first.serial,), wait_for)] if first else []
            continue
        chosen = [m for m in live if m.serial not in placed and (m.role in roles or (name == "ceph osds" and m.compute_is_cephosd))]
        if chosen:
            stages.append(Stage(name, tuple(m.serial for m in chosen), wait_for))
            placed |= {m.serial for m in chosen}
    rest = [m for m in live if m.serial not in placed]
    if rest:
        stages.append(Stage(LAST_STAGE, tuple(m.serial for m in rest), None))
    return tuple(stages)


def describe(stages: Sequence[Stage], hostnames: Mapping[str, str], cluster: str) -> str:
    """The order as ``--dry-run`` prints it."""
    if not stages:
        return f"cluster {cluster}: no live machine to install\n"
    lines = []
    for number, stage in enumerate(stages, 1):
        waits = {INSTALLED: "wait until installed", PUPPET_SUCCESS: "wait for Puppet success", None: "no wait"}[stage.wait_for]
        lines.append(f"{number}. {stage.name} ({waits}): {', '.join(hostnames[s] for s in stage.serials)}")
    return "\n".join(lines) + "\n"


def candidates(store: Store, cluster: str) -> list[Candidate]:
    """The enrolled machines of ``cluster``, as ``order`` reads them."""
    found = []
    for machine in store.all(Machine):
        enrolment = machine.enrolment
        if enrolment is not None and enrolment.cluster == cluster:
            cephosd = enrolment.role == "compute" and machine.settings.get("compute_is_cephosd") is True
            found.append(Candidate(machine.serial, enrolment.hostname, enrolment.role, machine.status.value, cephosd))
    return found


def plan(store: Store, cluster: str) -> dict[str, Any]:
    """The stages of ``cluster-install <cluster>`` (``--dry-run`` prints ``text``). A cluster with no live
    machine has no stage: nothing to do is not an error."""
    found = store.get(Cluster, names.cluster(cluster))
    enrolled = candidates(store, cluster)
    stages = order(enrolled, found.first_master)
    hostnames = {c.serial: c.hostname for c in enrolled}
    return {
        "cluster": cluster,
        "stages": [
            {"name": s.name, "machines": [{"serial": m, "hostname": hostnames[m]} for m in s.serials], "wait_for": s.wait_for}
            for s in stages
        ],  # fmt: skip
        "text": describe(stages, hostnames, cluster),
    }


def progress(store: Store, cluster: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Where each machine of ``cluster`` stands, as ``cluster-install`` polls it: status, Puppet status,
    seconds in its current phase (the master's clock), and why it failed if it did."""
    store.get(Cluster, names.cluster(cluster))
    now = now or datetime.now(UTC)
    rows = []
    for machine in store.all(Machine):
        if machine.enrolment is None or machine.enrolment.cluster != cluster:
            continue
        since = machine.history[-1].at if machine.history else machine.first_seen
        install, run = machine.install, machine.puppet_run
        rows.append(
            {
                "serial": machine.serial,
                "hostname": machine.enrolment.hostname,
                "role": machine.enrolment.role,
                "status": machine.status.value,
                "puppet_status": machine.puppet_status.value,
                "phase_seconds": max(0, round((now - since).total_seconds())),
                "install_error": f"{install.failed_step or 'install'}: {install.error}" if install and install.failed else None,
                "puppet_error": (run.error or f"{run.failed} resource(s) failed") if run and run.result is PuppetResult.FAILURE else None,
            }
        )
    return sorted(rows, key=lambda r: natural_key(r["hostname"]))


@dataclass(frozen=True, slots=True)
class Outcome:
    """How ``run`` ended: every stage done (``failed`` and ``timed_out`` empty), the first failure (the
    machine and why), or the wait given up (the machines still awaited). ``started``: the installs it began."""

    started: tuple[str, ...] = ()
    failed: str | None = None
    reason: str | None = None
    timed_out: tuple[str, ...] = ()


def failure(row: Mapping[str, Any]) -> str | None:
    """Why a machine whose install was started is not on its way any more, or None if it is."""
    if row["puppet_status"] == "failure":
        return f"Puppet failed: {row['puppet_error'] or 'no run report'}"
    if row["status"] in (MachineStatus.LIVE.value, MachineStatus.BOOTINGLIVE.value):
        return f"install failed at {row['install_error']}" if row["install_error"] else f"back to {row['status']} without an install"
    return None


def reached(row: Mapping[str, Any], wait_for: str) -> bool:
    installed: bool = row["status"] == MachineStatus.INSTALLED.value
    return installed if wait_for == INSTALLED else installed and row["puppet_status"] == "success"


def run(
    stages: Sequence[Stage],
    install: Callable[[str], object],
    read: Callable[[], Mapping[str, Mapping[str, Any]]],
    wait: Callable[[], bool],
) -> Outcome:
    """Install ``stages`` one after the other. ``install(serial)`` starts a machine's install (its error stops
    everything); ``read()`` is serial -> ``progress`` row; ``wait()`` comes between two reads while a stage
    is awaited and returns False to give up (the time limit). A failure of any machine started so far
    stops the run: the later stages would build on it."""
    started: list[str] = []
    for stage in stages:
        for serial in stage.serials:
            install(serial)
            started.append(serial)
        while True:
            rows = read()
            for serial in started:
                why = failure(rows[serial])
                if why is not None:
                    return Outcome(tuple(started), serial, why)
            awaited = [s for s in stage.serials if stage.wait_for is not None and not reached(rows[s], stage.wait_for)]
            if not awaited:
                break
            if not wait():
                return Outcome(tuple(started), timed_out=tuple(awaited))
    return Outcome(tuple(started))
