"""What ``oci-poc vms`` shows while it runs and at its end (pure: rows in, text out).

While it runs: one table (VM, serial, BMC, power, status, phase, time in the phase, time since power-on),
redrawn in place on a terminal; in a pipe, a line per VM whose status or phase changed. At the end: the time
of each phase per VM, from the master's own history of each machine, and the total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from oci.cli.output import Column, Table, duration, render_table
from oci.model import Machine

COLUMNS = (Column("vm", "vm"), Column("serial", "serial"), Column("bmc", "bmc"), Column("power", "power"),
           Column("status", "status"), Column("phase", "phase"), Column("in_phase", "in phase"),
           Column("elapsed", "since power-on"))  # fmt: skip
CURSOR_UP, CLEAR_BELOW = "\x1b[{}A", "\x1b[J"


@dataclass(frozen=True, slots=True)
class Row:
    """One VM as the run sees it: its BMC's word (power), and the master's (status, phase)."""

    vm: str
    serial: str
    bmc: str | None  # the address the master reaches it at (the simulator's own until OCI numbered it)
    power: str  # on, off, unknown
    status: str  # the master's status, or "-" before its first report
    phase: str  # an install step, "puppet", or what the run waits for
    in_phase: float | None  # seconds
    elapsed: float | None  # seconds since the run powered it on
    failed: str | None = None  # why it is out of the run

    def key(self) -> tuple[str, str, str | None, str | None]:
        """What a change of makes a new line in a pipe."""
        return self.status, self.phase, self.failed, self.bmc


def table(rows: Sequence[Row], note: str = "") -> str:
    shown = [
        {
            "vm": r.vm,
            "serial": r.serial,
            "bmc": r.bmc,
            "power": r.power,
            "status": r.status,
            "phase": r.failed or r.phase,
            "in_phase": duration(int(r.in_phase)) if r.in_phase is not None else None,
            "elapsed": duration(int(r.elapsed)) if r.elapsed is not None else None,
        }  # fmt: skip
        for r in rows
    ]
    return render_table(Table(shown, COLUMNS), terminal=True) + (note + "\n" if note else "")


def redraw(previous_lines: int, text: str) -> str:
    """``text`` drawn over the ``previous_lines`` lines drawn last (ANSI: up, clear to the end)."""
    return (CURSOR_UP.format(previous_lines) + CLEAR_BELOW if previous_lines else "") + text


def line(row: Row) -> str:
    """One VM's change, as a plain line (a pipe, a log)."""
    elapsed = f" [{duration(int(row.elapsed))} since power-on]" if row.elapsed is not None else ""
    what = f"FAILED: {row.failed}" if row.failed else f"{row.status}, {row.phase}"
    bmc = f", BMC {row.bmc}" if row.bmc else ""
    return f"{row.vm} ({row.serial}): {what}{bmc}{elapsed}"


def changed(last: Mapping[str, tuple[str, str, str | None, str | None]], rows: Sequence[Row]) -> list[Row]:
    """The rows whose status, phase, failure or BMC address differs from ``last`` (by VM)."""
    return [row for row in rows if last.get(row.vm) != row.key()]


# The summary's phases: (header, the status that ends it); each starts where the one before it ended.
PHASES = (("to live", "live"), ("waiting", "installing"), ("install", "firstboot"), ("first boot", "installed"),
          ("puppet", "puppet-success"))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Timeline:
    """One VM's run: when the run powered it on, and the master's history of the machine (status, since)."""

    vm: str
    serial: str
    powered_on: datetime
    history: tuple[tuple[str, datetime], ...]
    failed: str | None = None


def phase_seconds(timeline: Timeline) -> dict[str, float | None]:
    """Seconds of each phase: power-on to the first ``live``, then ``live`` to ``installing`` (enrolment and the
    cluster-install's order), ``installing`` to ``firstboot`` (the installer), ``firstboot`` to ``installed``
    (the reboot to disk), ``installed`` to ``puppet-success`` (the first run); None where it was not reached. A
    machine reinstalled within the run counts from its last install."""
    first: dict[str, datetime] = {}
    for status, since in timeline.history:
        if status == "live" and "live" in first:
            continue  # the live image again (an install that failed and was retried): the boot counted once
        if status == "installing":
            for later in ("firstboot", "installed", "puppet-success"):
                first.pop(later, None)
        first[status] = since
    marks = [timeline.powered_on, *(first.get(status) for _, status in PHASES)]
    out: dict[str, float | None] = {}
    for (header, _), start, end in zip(PHASES, marks, marks[1:], strict=False):
        out[header] = (end - start).total_seconds() if start is not None and end is not None else None
    return out


def summary(timelines: Sequence[Timeline]) -> str:
    """The end's table: per VM, each phase's time and power-on to ``puppet-success``."""
    columns = [Column("vm", "vm"), Column("serial", "serial"), *(Column(h, h) for h, _ in PHASES), Column("total", "total"),
               Column("result", "result")]  # fmt: skip
    rows = []
    for timeline in timelines:
        seconds = phase_seconds(timeline)
        done = all(value is not None for value in seconds.values())
        total = sum(v for v in seconds.values() if v is not None) if done else None
        row: dict[str, object] = {"vm": timeline.vm, "serial": timeline.serial, "total": _shown(total),
                                  "result": timeline.failed or ("puppet success" if done else "not finished")}  # fmt: skip
        row.update({header: _shown(value) for header, value in seconds.items()})
        rows.append(row)
    return render_table(Table(rows, columns))


def _shown(seconds: float | None) -> str | None:
    return duration(int(seconds)) if seconds is not None else None


def observe(vm: str, serial: str, machine: Machine | None, bmc: str | None, power: str, powered_on: datetime | None,
            now: datetime, failed: str | None = None) -> Row:  # fmt: skip
    """A VM's row from the master's record of its machine (None before its first report)."""
    elapsed = (now - powered_on).total_seconds() if powered_on is not None else None
    if machine is None:
        phase = "booting the live image" if powered_on is not None else "powered off"
        return Row(vm, serial, bmc, power, "-", phase, elapsed, elapsed, failed)
    since = machine.history[-1].at if machine.history else machine.first_seen
    status, phase = machine.status.value, ""
    if status == "live":
        phase = "enrolling" if machine.enrolment is None else "waiting for its install"
    elif status == "installing":
        steps = machine.install.steps if machine.install else ()
        running = [step for step in steps if step.seconds is None]
        if running:
            phase, since = running[-1].name, running[-1].started
        elif steps:  # between two steps: the node reports the next one as it starts
            last = steps[-1]
            phase, since = f"{last.name} done", last.started + timedelta(seconds=last.seconds or 0)
        else:
            phase = "starting the installer"
    elif status == "firstboot":
        phase = "rebooting to its disk"
    elif status == "installed":
        phase = {"notrun": "waiting for Puppet", "running": "first Puppet run", "success": "done",
                 "failure": "Puppet failed"}[machine.puppet_status.value]  # fmt: skip
    else:
        phase = status
    return Row(vm, serial, bmc, power, status, phase, (now - since).total_seconds(), elapsed, failed)
