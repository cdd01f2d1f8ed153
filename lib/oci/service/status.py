"""Node status reports: where a machine stands in its life (live, installing, ... puppet-success), the
steps of its install (docs/agent.md, "Install progress"), and the Puppet runs the Puppet server reports
(docs/puppet-runs.md)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from ipaddress import IPv4Address
from typing import Any

from oci import names, values
from oci.enc import refresh as enc
from oci.errors import Conflict, InvalidInput, NotFound
from oci.model import Machine, MachineStatus, Phase, PuppetResult, PuppetRun, PuppetStatus
from oci.model.machine import MAX_ERROR_LENGTH, MAX_INSTALL_STEPS, STEP_NAME, InstallRecord, InstallStep
from oci.service import reactions
from oci.service.views import machine_views
from oci.store import Store

MACHINE_STATUS = {
    Phase.LIVE: MachineStatus.LIVE,
    Phase.INSTALLING: MachineStatus.INSTALLING,
    Phase.FIRSTBOOT: MachineStatus.FIRSTBOOT,
    Phase.INSTALLED: MachineStatus.INSTALLED,
}
PUPPET_STATUS = {
    Phase.PUPPET_RUNNING: PuppetStatus.RUNNING,
    Phase.PUPPET_SUCCESS: PuppetStatus.SUCCESS,
    Phase.PUPPET_FAILURE: PuppetStatus.FAILURE,
}
MAX_STEP_SECONDS = 1_000_000  # eleven days: beyond that a duration is a broken clock, not a slow mirror


def parse_phase(text: object) -> Phase:
    try:
        if not isinstance(text, str):
            raise ValueError
        return Phase(text)
    except ValueError:
        shown = repr(text) if len(repr(text)) < 40 else repr(text)[:37] + "..."
        raise InvalidInput(f"unknown status {shown}", hint="one of " + ", ".join(p.value for p in Phase)) from None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True, slots=True)
class StepReport:
    """What a status report says of an install step: one starts (``step``), ends (``step`` and ``seconds``),
    or failed (status ``live``, ``step`` and ``error``); or why a first Puppet run failed (status
    ``puppet-failure`` and ``error``)."""

    step: str | None = None
    seconds: float | None = None
    error: str | None = None


def parse_step_report(phase: Phase, step: object = None, seconds: object = None, error: object = None) -> StepReport:
    """The optional fields of a status report, checked together with its status (one line each refusal)."""
    if step is not None:
        if not isinstance(step, str) or not STEP_NAME.fullmatch(step):
            raise InvalidInput(f"step: {_show(step)} is not a step name", hint="[a-z][a-z0-9-]{0,31}, e.g. partition")
        if phase not in (Phase.INSTALLING, Phase.LIVE):
            raise InvalidInput(f"step: only with status installing (a step's progress) or live (its failure), not {phase.value}")
    if seconds is not None:
        if step is None or phase is not Phase.INSTALLING:
            raise InvalidInput("seconds: only with a step and status installing (the step's duration)")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise InvalidInput(f"seconds: {_show(seconds)} is not a number")
        duration = values.finite(seconds)
        if duration is None or not 0 <= duration <= MAX_STEP_SECONDS:
            raise InvalidInput(f"seconds: {_show(seconds)} is not a duration between 0 and {MAX_STEP_SECONDS}")
        seconds = round(duration, 2)
    if error is not None:
        if phase not in (Phase.LIVE, Phase.PUPPET_FAILURE):
            raise InvalidInput("error: only with status live (an install that failed) or puppet-failure (a Puppet run that failed)")
        if not isinstance(error, str) or not error.strip():
            raise InvalidInput(f"error: {_show(error)} is not a line of text")
        if len(error) > MAX_ERROR_LENGTH:
            raise InvalidInput(f"error: longer than {MAX_ERROR_LENGTH} characters", hint="send its first line, cut")
        if error.splitlines() != [error] or values.has_surrogate(error):
            raise InvalidInput(f"error: {_show(error)} is not one line of text")
    elif phase is Phase.LIVE and step is not None:
        raise InvalidInput("error: required with a step and status live (why the step failed)")
    assert seconds is None or isinstance(seconds, float)
    return StepReport(step, seconds, error)


def _open(record: InstallRecord | None) -> InstallRecord | None:
    """The install still running in ``record``, if any."""
    return record if record is not None and record.finished is None else None


def _with_step(record: InstallRecord, step: InstallStep) -> InstallRecord:
    if len(record.steps) >= MAX_INSTALL_STEPS:
        raise InvalidInput(f"step: this install already has {MAX_INSTALL_STEPS} steps")
    return replace(record, steps=(*record.steps, step))


def progress(record: InstallRecord | None, phase: Phase, report: StepReport, now: datetime) -> InstallRecord | None:
    """The install record after a status report (pure). A new install (status installing while the last one
    is finished, or a step that the running one has already seen: the installer started again) starts a new
    record; a repeated report changes nothing."""
    current = _open(record)
    if phase is Phase.INSTALLING:
        if report.step is None:
            return current or InstallRecord(started=now)
        if report.seconds is None:  # a step starts
            if current is not None and current.steps:
                last = current.steps[-1]
                if (last.name, last.seconds) == (report.step, None):
                    return current  # the same start again (a report sent twice)
                if any(s.name == report.step for s in current.steps):
                    current = None  # a step it has seen: the installer started again
            return _with_step(current or InstallRecord(started=now), InstallStep(report.step, now))
        started = now - timedelta(seconds=round(report.seconds))  # state files keep whole seconds
        current = current or InstallRecord(started=started)
        for index in range(len(current.steps) - 1, -1, -1):
            found = current.steps[index]
            if found.name == report.step:
                if found.seconds is not None:
                    return current  # already ended
                steps = (*current.steps[:index], replace(found, seconds=report.seconds), *current.steps[index + 1 :])
                return replace(current, steps=steps)
        return _with_step(current, InstallStep(report.step, started, report.seconds))  # its start was not heard
    if phase is Phase.LIVE and report.error is not None:
        if record is not None and record.failed and (record.failed_step, record.error) == (report.step, report.error):
            return record  # the same failure again
        return replace(current or InstallRecord(started=now), failed_step=report.step, error=report.error, finished=now)
    if phase is Phase.FIRSTBOOT and current is not None:
        return replace(current, finished=now)
    return record


def failure_detail(record: InstallRecord) -> str:
    """The history line's detail for a failed install."""
    where = f" at {record.failed_step}" if record.failed_step else ""
    return f"install failed{where}: {record.error}"


def apply(machine: Machine, phase: Phase, report: StepReport, address: IPv4Address | None, now: datetime) -> Machine:
    """``machine`` after a status report (pure)."""
    install = progress(machine.install, phase, report, now)
    if phase in MACHINE_STATUS:
        # Each install starts Puppet afresh (as in the reference).
        status, puppet = MACHINE_STATUS[phase], PuppetStatus.NOTRUN if phase is Phase.INSTALLING else machine.puppet_status
    else:
        status, puppet = machine.status, PUPPET_STATUS[phase]
    if report.error is None:
        detail = None
    elif phase is Phase.PUPPET_FAILURE:
        detail = f"puppet run failed: {report.error}"
    else:
        detail = failure_detail(install) if install is not None else None
    history = machine.reached(phase.value, now, address, detail)
    host_key = machine.host_key
    if phase is Phase.INSTALLED and install is not None and install.host_key is not None and not install.failed:
        # The installed system holds the key its install's bundle carried, no longer the live image's: a
        # request signed by the node is checked against that one from now on.
        host_key = install.host_key
    return replace(machine, status=status, puppet_status=puppet, install=install, history=history, host_key=host_key)


def begin_install(machine: Machine, now: datetime, host_key: str | None = None) -> Machine:
    """``machine`` as ``machine-install-os`` starts an install: installing, with a new install record that
    keeps the host key handed to the node (the same as the node's first ``installing`` report, which then
    changes nothing)."""
    started = apply(machine, Phase.INSTALLING, StepReport(), None, now)
    assert started.install is not None
    return replace(started, install=replace(started.install, host_key=host_key))


def record(
    store: Store,
    serial: str,
    status: str,
    address: IPv4Address | None,
    now: datetime,
    step: object = None,
    seconds: object = None,
    error: object = None,
) -> dict[str, Any]:
    """Apply a status report: the machine's status or puppet status, its install's steps, a line of history.
    Everything is checked before the machine's file is read; one write at most. A puppet status that becomes
    success sets off the reactions (after the lock and the ENC's refresh: they may take minutes)."""
    result, succeeded = _record(store, serial, status, address, now, step, seconds, error)
    if succeeded:
        reactions.after_puppet_success(store, serial)
    return result


@enc.follows  # the ENC re-renders only when the classification may change (enc.refresh._classified)
def _record(
    store: Store, serial: str, status: str, address: IPv4Address | None, now: datetime, step: object, seconds: object, error: object
) -> tuple[dict[str, Any], bool]:
    phase = parse_phase(status)
    report = parse_step_report(phase, step, seconds, error)
    names.serial(serial)
    with store.machine_lock([serial]):
        machine = store.find(Machine, serial)
        if machine is None:
            raise NotFound(f"no machine with serial '{serial}'", hint="a machine is known once its agent has sent a hardware report")
        updated = apply(machine, phase, report, address, now)
        if updated != machine:
            store.write_machine(updated)
    result = {"serial": serial, "status": updated.status.value, "puppet_status": updated.puppet_status.value}
    return result, _became_success(machine, updated)


def _became_success(before: Machine, after: Machine) -> bool:
    return before.puppet_status is not PuppetStatus.SUCCESS and after.puppet_status is PuppetStatus.SUCCESS


def with_run(machine: Machine, run: PuppetRun, now: datetime) -> Machine:
    """``machine`` after a report of its Puppet run (pure). While the first-boot unit runs Puppet (puppet
    status ``running``) it alone gives the verdict, after its retries: the report only becomes the last run.
    Otherwise the run's result is the puppet status, with a line of history when it changes."""
    if machine.puppet_status is PuppetStatus.RUNNING:
        return replace(machine, puppet_run=run)
    success = run.result is PuppetResult.SUCCESS
    puppet = PuppetStatus.SUCCESS if success else PuppetStatus.FAILURE
    history = machine.history
    if puppet is not machine.puppet_status:
        phase = Phase.PUPPET_SUCCESS if success else Phase.PUPPET_FAILURE
        detail = None if success or run.error is None else f"puppet run failed: {run.error}"
        history = machine.reached(phase.value, now, None, detail)
    return replace(machine, puppet_run=run, puppet_status=puppet, history=history)


def machine_of_certname(store: Store, certname: str) -> str:
    """The serial of the machine enrolled with the host name ``certname`` (a Puppet agent's certname)."""
    found = [serial for serial, view in machine_views(store).items() if view["hostname"] == certname]
    if not found:
        raise NotFound(f"no machine is enrolled as {certname}", hint="a Puppet report names the agent's certname: see machine-list")
    return found[0]


def record_puppet_run(store: Store, certname: str, run: PuppetRun, now: datetime) -> dict[str, Any]:
    """Take a Puppet run the Puppet server reported for the agent ``certname``: the machine's last run, and
    its puppet status unless the first-boot unit is running Puppet (``with_run``). Nothing is written for a
    certname no enrolled machine has. A puppet status that becomes success sets off the reactions."""
    result, succeeded = _record_run(store, certname, run, now)
    if succeeded:
        reactions.after_puppet_success(store, result["serial"])
    return result


@enc.follows
def _record_run(store: Store, certname: str, run: PuppetRun, now: datetime) -> tuple[dict[str, Any], bool]:
    names.hostname(certname)
    serial = machine_of_certname(store, certname)
    with store.machine_lock([serial]):
        machine = store.get(Machine, serial)
        if machine.enrolment is None or machine.enrolment.hostname != certname:  # changed since the listing was read
            raise NotFound(f"no machine is enrolled as {certname}", hint="a Puppet report names the agent's certname: see machine-list")
        updated = with_run(machine, run, now)
        if updated != machine:
            store.write_machine(updated)
    result = {"serial": serial, "hostname": certname, "puppet_status": updated.puppet_status.value, "result": run.result.value}
    return result, _became_success(machine, updated)


def serial_of_address(store: Store, address: IPv4Address | None) -> str:
    """The machine whose last hardware report came from ``address`` (OCI 42 nodes that send no serial)."""
    if address is None:
        raise InvalidInput("no serial given, and the request's address cannot identify a machine")
    found = [serial for serial, beat in store.heartbeats().items() if beat.address == address]
    if len(found) != 1:
        what = "no machine" if not found else f"{len(found)} machines ({', '.join(sorted(found)[:3])})"
        raise (NotFound if not found else Conflict)(f"{what} reported from {address}", hint="send chassis-serial")
    return found[0]
