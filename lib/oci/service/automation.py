"""Automatic enrolment (docs/automation.md): ``machine-auto-add``, and the steps a machine's reports set off.

``machine-auto-add`` enrols a machine with what OCI knows of it: the role of the hardware profile that applies
to it (docs/profiles.md), the location of its rack (docs/racking.md), and the configured cluster. Each answer is
kept as the reason, so ``machine-show`` says why the machine is where it is.

After each report, a machine whose reports with the same hardware reach a configured count goes through one
step: racked (``auto_rack_after``), enrolled (``auto_add_after``), installed (``auto_install_after``). All are off
by default. Each step runs as the operation an operator would run, through the operations table, so it is
checked the same way and lands in the audit log (actor ``automation``). Whether it succeeded or was refused, it
is recorded with the machine (``machine-show``'s ``automation``): when, after how many reports, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from oci import names, profiles
from oci.config import Config
from oci.errors import Conflict, InvalidInput, OciError
from oci.model import Machine, MachineStatus
from oci.service import machines, racking
from oci.service import profiles as profile_files
from oci.service.automationlog import record
from oci.store import Store

ACTOR = "automation"
Execute = Callable[..., Any]  # operations.execute(store, name, params, actor=...): a loop to import it here


def plan_add(store: Store, serial: str, cluster: str | None = None) -> dict[str, Any]:
    """Where ``machine-auto-add`` would enrol the machine, and why; refused in one line when an answer is missing."""
    machine = store.get(Machine, serial)
    if machine.enrolment is not None:
        raise Conflict(f"machine {serial} is already in cluster {machine.enrolment.cluster}")
    chosen = cluster or store.config.auto_add_cluster
    if not chosen:
        raise InvalidInput("no cluster to enrol it in", hint="give --cluster, or set [fleet] auto_add_cluster")
    names.cluster(chosen)
    found = profile_files.of(store)
    fit = profiles.fitting(found, machine.hardware)
    if len(fit) != 1:
        which = "no hardware profile fits it" if not fit else f"{len(fit)} hardware profiles fit it ({', '.join(p.name for p in fit)})"
        raise Conflict(f"no role for {serial}: {which}", hint=f"see machine-guessed-profile {serial} -d")
    rack = racking.guessed(store, serial)
    if not rack["location"]:
        raise Conflict(
            f"no location for {serial}: the racking rule of switch {rack['switch']} names none", hint="add location to that rule"
        )
    profile = fit[0]
    why = (f"role {profile.role} from hardware profile {profile.name}; location {rack['location']} from rack {rack['loc_dc']}/"
           f"{rack['loc_rack']} ({rack['nic']} on {rack['switch']} port {rack['port']}); cluster {chosen}"
           + (" (given)" if cluster else " ([fleet] auto_add_cluster)"))  # fmt: skip
    return {"serial": serial, "cluster": chosen, "role": profile.role, "location": rack["location"], "why": why}


def auto_add(store: Store, ident: str, cluster: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Enrol the machine as ``plan_add`` says (or, with ``dry_run``, only say it), and keep the reason."""
    serial = machines.resolve(store, ident)
    planned = plan_add(store, serial, cluster)
    if dry_run:
        return {**planned, "enrolled": None}
    enrolled = machines.add(store, serial, planned["cluster"], planned["role"], planned["location"])
    record(store, serial, "add", "done", planned["why"])
    return {**planned, "enrolled": enrolled}


def report_counter_reset(store: Store, ident: str) -> dict[str, Any]:
    """Count the machine's reports from zero again: the automatic steps run again as the count reaches them."""
    serial = machines.resolve(store, ident)
    with store.machine_lock([serial]):
        beat = store.heartbeat(serial)
        if beat is not None:
            store.write_heartbeat(serial, replace(beat, counted=0))
    return {"serial": serial, "counted": 0}


# ------------------------------------------------------------------------------------------- after a report
def steps(config: Config) -> tuple[tuple[str, int], ...]:
    """Each automatic step with the count of reports that sets it off (0: never)."""
    return (("rack", config.auto_rack_after), ("add", config.auto_add_after), ("install", config.auto_install_after))


def after_report(store: Store, serial: str, execute: Execute) -> str | None:
    """The step this report sets off, if its count reaches one, run as its operation; what became of it."""
    wanted = [(step, n) for step, n in steps(store.config) if n]
    if not wanted:
        return None  # the common case: the automation is off, and costs a report nothing more
    beat = store.heartbeat(serial)
    due = [step for step, n in wanted if beat is not None and beat.counted == n]
    if not due:
        return None
    step = due[0]
    machine = store.get(Machine, serial)
    why = f"report {beat.counted if beat else 0} with the same hardware ([fleet] auto_{step}_after)"
    try:
        if step == "rack":
            done = execute(store, "machine_auto_rack", {"machine": serial}, actor=ACTOR)
            outcome = f"racked at {done['loc_dc']}/{done['loc_rack']} U{done['loc_u_start']}" if done["changed"] else "already racked"
        elif step == "add":
            if machine.enrolment is not None or machine.status is not MachineStatus.LIVE:
                return _skip(store, serial, step, why, "already enrolled" if machine.enrolment else f"it is {machine.status.value}")
            done = execute(store, "machine_auto_add", {"machine": serial}, actor=ACTOR)
            outcome = f"enrolled as {done['enrolled']['hostname']}: {done['why']}"
        else:
            if machine.enrolment is None or machine.status is not MachineStatus.LIVE:
                return _skip(store, serial, step, why, "not enrolled" if machine.enrolment is None else f"it is {machine.status.value}")
            execute(store, "machine_install_os", {"machine": serial}, actor=ACTOR)
            outcome = "install started"
    except OciError as exc:
        record(store, serial, step, "refused", f"{why}: {exc.message}")
        return f"refused: {exc.message}"
    if step != "add":  # auto_add recorded its own reason
        record(store, serial, step, "done", f"{why}: {outcome}")
    return outcome


def _skip(store: Store, serial: str, step: str, why: str, reason: str) -> str:
    record(store, serial, step, "skipped", f"{why}: {reason}")
    return f"skipped: {reason}"
