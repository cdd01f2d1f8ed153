"""cluster-install and cluster-reset: a cluster's machines, one stage after the other (docs/puppet-runs.md,
"The cluster"). The order comes from the master; the waiting loop runs here, polling either backend."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from oci.cli.backend import Backend
from oci.cli.machines import EXIT_INSTALL_FAILED, EXIT_TIMED_OUT
from oci.cli.output import Column, Message, Table, duration, render_table
from oci.errors import InvalidInput, OciError
from oci.service.clusterinstall import Stage, run

INSTALL_EPILOG = f"""\
exit codes:
  0  every stage is done (or there was no live machine to install)
  1  error (an unknown cluster, an install that could not start...)
  2  usage error
  {EXIT_INSTALL_FAILED}  a machine failed (the line says which, and its failed step or Puppet error); later stages not started
  {EXIT_TIMED_OUT}  --timeout passed before the stage it waited for was done
"""
COLUMNS = [Column("serial", "machine"), Column("role", "role"), Column("hostname", "hostname"), Column("status", "status"),
           Column("puppet_status", "puppet"), Column("phase", "in phase"), Column("total", "total")]  # fmt: skip
CURSOR_UP, CLEAR_BELOW = "\x1b[{}A", "\x1b[J"


class LiveTable:
    """The machines of a cluster-install as they move: on a terminal, one table redrawn in place (ANSI cursor
    up); in a pipe or with --json, a line for each machine whose status or Puppet status changed."""

    def __init__(self, out: TextIO, as_json: bool, stages: list[Stage]) -> None:
        self.out, self.as_json, self.stages = out, as_json, stages
        self.terminal = out.isatty() and not as_json
        self.drawn = 0
        self.started: dict[str, float] = {}  # serial -> when this command started its install (monotonic)
        self.last: dict[str, tuple[str, str]] = {}
        self.stage = ""
        self.warnings: list[str] = []  # what machine-install-os warned of (a BMC that did not take the boot device)

    def begin(self, serial: str) -> None:
        self.started[serial] = time.monotonic()
        for number, stage in enumerate(self.stages, 1):
            if serial in stage.serials:
                self.stage = f"stage {number}/{len(self.stages)}: {stage.name}"

    def warn(self, serial: str, text: str) -> None:
        """A warning of a machine's install start: under the table on a terminal, a line of its own otherwise."""
        self.warnings.append(f"warning: {serial}: {text}")
        if self.as_json:
            self.out.write(json.dumps({"serial": serial, "warning": text}, sort_keys=True, ensure_ascii=True) + "\n")
        elif not self.terminal:
            self.out.write(self.warnings[-1] + "\n")
        self.out.flush()

    def show(self, rows: Mapping[str, Mapping[str, Any]]) -> None:
        now = time.monotonic()
        shown = [{**row, "phase": duration(row["phase_seconds"]),
                  "total": duration(int(now - self.started[s])) if s in self.started else None} for s, row in rows.items()]  # fmt: skip
        if self.terminal:
            text = render_table(Table(shown, COLUMNS), terminal=True) + self.stage + "\n" + "".join(w + "\n" for w in self.warnings)
            self.out.write((CURSOR_UP.format(self.drawn) + CLEAR_BELOW if self.drawn else "") + text)
            self.drawn = text.count("\n")
        else:
            for row in shown:
                state = (row["status"], row["puppet_status"])
                if self.last.get(row["serial"]) != state:
                    self.last[row["serial"]] = state
                    self._line(row)
        self.out.flush()

    def _line(self, row: Mapping[str, Any]) -> None:
        if self.as_json:
            self.out.write(json.dumps(dict(row), sort_keys=True, ensure_ascii=True) + "\n")
        else:
            total = f" ({row['total']} since its install started)" if row["total"] else ""
            self.out.write(f"{row['hostname']} ({row['role']}): {row['status']}, puppet {row['puppet_status']}{total}\n")


def install(args: argparse.Namespace, backend: Backend) -> Message:
    plan = backend.call("cluster_install_order", name=args.name)
    if args.dry_run or not plan["stages"]:
        return Message(plan["text"].rstrip() + ("\ndry run: nothing was changed" if args.dry_run else ""), data=plan)
    stages = [Stage(s["name"], tuple(m["serial"] for m in s["machines"]), s["wait_for"]) for s in plan["stages"]]
    table = LiveTable(sys.stdout, getattr(args, "json", False), stages)
    give_up = time.monotonic() + args.timeout

    def start(serial: str) -> None:
        table.begin(serial)
        result = backend.call("machine_install_os", machine=serial)
        if "warning" in result:
            table.warn(serial, result["warning"])

    def read() -> dict[str, Any]:
        rows = {row["serial"]: row for row in backend.call("cluster_install_progress", name=args.name)}
        table.show(rows)
        return rows

    def wait() -> bool:
        left = give_up - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(args.poll, left))
        return True

    outcome = run(stages, start, read, wait)
    data = {"cluster": args.name, "started": list(outcome.started), "failed": outcome.failed, "reason": outcome.reason,
            "waiting": list(outcome.timed_out)}  # fmt: skip
    hostnames = {m["serial"]: m["hostname"] for s in plan["stages"] for m in s["machines"]}
    if outcome.failed is not None:
        text = f"{hostnames[outcome.failed]} ({outcome.failed}): {outcome.reason}; later stages not started"
        return Message(text, data=data, exit_code=EXIT_INSTALL_FAILED)
    if outcome.timed_out:
        waiting = ", ".join(hostnames[s] for s in outcome.timed_out)
        return Message(f"timed out after {args.timeout:g} s; still waiting for {waiting}", data=data, exit_code=EXIT_TIMED_OUT)
    return Message(f"cluster {args.name}: {len(outcome.started)} machine(s) installed in {len(stages)} stage(s)", data=data)


def reset(args: argparse.Namespace, backend: Backend) -> Message:
    if not args.yes:
        raise InvalidInput(f"cluster-reset reboots every machine of {args.name} that is not live into the live image", hint="add --yes")
    lines, results, failed = [], [], 0
    for row in backend.call("cluster_show_machines", name=args.name):
        if row["status"] == "live":
            continue
        try:
            done = backend.call("machine_reboot_on_live", machine=row["serial"])
            through = "the node" if done["via"] == "node" else "its BMC"
            notes = "".join(f"; {done[k]}" for k in ("node_error", "warning") if k in done)
            lines.append(f"{row['hostname']}: rebooting into the live image through {through}{notes}")
            results.append({**done, "hostname": row["hostname"]})
        except OciError as exc:
            failed += 1
            lines.append(f"{row['hostname']}: not rebooted: {exc.message}")
            results.append({"serial": row["serial"], "hostname": row["hostname"], "error": exc.message})
    if not lines:
        return Message(f"cluster {args.name}: every machine is live, nothing to reset", data=results)
    return Message("\n".join(lines), data=results, exit_code=1 if failed else 0)
