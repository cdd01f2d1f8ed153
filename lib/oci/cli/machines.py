"""machine-* commands."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oci.cli.backend import Backend
from oci.cli.common import add_setting_options, command, dry_run, seconds, setting_values
from oci.cli.output import Column, Message, Record, Table, duration, terminal_safe
from oci.errors import InvalidInput
from oci.model.settings import MACHINE_SETTINGS
from oci.naming import natural_key

C = Column
DEFAULT_COLUMNS = [C("serial", "serial"), C("ip", "ipaddr"), C("memory_mb", "memory"), C("status", "status"), C("puppet_status", "puppet"),
                   C("last_seen", "lastseen"), C("cluster", "cluster"), C("hostname", "hostname")]  # fmt: skip
GROUPS: dict[str, tuple[str, list[Column]]] = {
    "s": ("role", [C("role", "role")]),
    "z": ("location (zone)", [C("location", "location")]),
    "h": (
        "hardware",
        [
            C("manufacturer", "manufacturer"),
            C("product_name", "product"),
            C("cpu_model", "cpu"),
            C("cpu_threads", "threads"),
            C("uefi", "uefi"),
        ],
    ),  # fmt: skip
    "b": ("block devices", [C("disks", "disks")]),
    "e": ("network interfaces", [C("nics", "nics")]),
    "n": ("addresses", [C("live_ip", "live_ip"), C("management_ip", "mgmt_ip"), C("addresses", "addresses")]),
    "r": ("notes", [C("notes", "notes")]),
}
SHOW_ORDER = ("serial", "serial_source", "status", "puppet_status", "history", "install", "puppet_run", "enrolment", "profile", "live_ip",
              "addresses", "last_seen", "reports", "first_seen")  # fmt: skip


def _list(args: argparse.Namespace, backend: Backend) -> Table:
    rows = backend.call("machine_list")
    if args.order == "hostname":
        rows.sort(key=lambda r: (r["hostname"] is None, natural_key(r["hostname"] or r["serial"])))
    else:
        rows.sort(key=lambda r: natural_key(r["serial"]))
    columns = list(DEFAULT_COLUMNS)
    for flag, (_, extra) in GROUPS.items():
        if args.all or getattr(args, f"group_{flag}"):
            columns += [c for c in extra if c not in columns]
    return Table(rows, columns)


def _show(args: argparse.Namespace, backend: Backend) -> Record:
    return Record(backend.call("machine_show", machine=args.machine), order=SHOW_ORDER)


def _guessed_profile(args: argparse.Namespace, backend: Backend) -> Table:
    """The profiles it fits (all of them, with why not, with ``-d``); the one that applies is marked."""
    found = backend.call("machine_guessed_profile", machine=args.machine)
    rows = [{**r, "applies": r["name"] == found["applies"], "why_not": "; ".join(r["mismatches"])}
            for r in found["profiles"] if args.debug_profiles or r["fits"]]  # fmt: skip
    columns = [C("name", "profile"), C("role", "role"), C("applies", "applies")]
    return Table(rows, [*columns, C("fits", "fits"), C("why_not", "why not")] if args.debug_profiles else columns)


def _replace(args: argparse.Namespace, backend: Backend) -> Message:
    done = backend.call("machine_replace", machine=args.old, new=args.new)
    shown = ", ".join(f"{a['address']} on {a['network']}" for a in done["addresses"] if a["kind"] == "machine")
    return Message(f"{done['new']} replaces {done['old']} as {done['hostname']} ({shown or 'no address'}); {done['old']} is forgotten; "
                   f"install {done['new']} with machine-install-os", data=done)  # fmt: skip


def _wipe(args: argparse.Namespace, backend: Backend) -> Message:
    done = backend.call("machine_wipe", machine=args.machine, confirm=args.yes)
    return Message("\n".join(done["output"]), data=done)


def _gen_root_pass(args: argparse.Namespace, backend: Backend) -> Message:
    done = backend.call("machine_gen_root_pass", machine=args.machine)
    return Message(f"root password of {done['hostname']} ({done['serial']}): {done['password']}\n"
                   "shown once; the master keeps a copy readable by root alone", data=done)  # fmt: skip


def _forget_root_pass(args: argparse.Namespace, backend: Backend) -> Message:
    done = backend.call("machine_forget_root_pass", machine=args.machine)
    return Message(f"{done['serial']}: " + ("the master's copy of its root password is gone" if done["forgotten"] else "no copy was kept"),
                   data=done)  # fmt: skip


def _blk(args: argparse.Namespace, backend: Backend) -> Table:
    columns = [C("name", "name"), C("realdev", "realdev"), C("size_mb", "size_mb"), C("model", "model"), C("transport", "transport"),
               C("rotational", "rotational")]  # fmt: skip
    return Table(backend.call("machine_blk", machine=args.machine), columns)


def _from_hostname(args: argparse.Namespace, backend: Backend) -> Table:
    return Table([backend.call("machine_show_from_hostname", host=args.hostname)], DEFAULT_COLUMNS + GROUPS["s"][1])


def _profile_list(args: argparse.Namespace, backend: Backend) -> Table:
    columns = [C("name", "profile_name"), C("role", "role"), C("product_names", "product_names"), C("ram_min", "ram_min"),
               C("ram_max", "ram_max"), C("layout", "layout")]  # fmt: skip
    return Table(backend.call("profile_list"), columns)


def _auto_add(args: argparse.Namespace, backend: Backend) -> Message:
    done = backend.call("machine_auto_add", machine=args.machine, cluster=args.cluster, dry_run=args.dry_run)
    if done["enrolled"] is None:
        where = f"in {done['cluster']} as {done['role']} in {done['location']}"
        text = f"{done['serial']} would be enrolled {where}: {done['why']}; nothing changed (--dry-run)"
    else:
        text = f"{done['serial']} enrolled as {done['enrolled']['hostname']}: {done['why']}"
    return Message(text, data=done)


def _report_counter_reset(args: argparse.Namespace, backend: Backend) -> Message:
    done = backend.call("machine_report_counter_reset", machine=args.machine)
    return Message(f"{done['serial']}: its reports are counted from zero again", data=done)


RACKING_ORDER = ("serial", "loc_dc", "loc_row", "loc_rack", "loc_u_start", "loc_u_end", "location", "nic", "switch", "port")


def _guess_racking(args: argparse.Namespace, backend: Backend) -> Record:
    return Record(backend.call("machine_guess_racking", machine=args.machine), order=RACKING_ORDER)


def _auto_rack(args: argparse.Namespace, backend: Backend) -> Message:
    done = backend.call("machine_auto_rack", machine=args.machine, dry_run=args.dry_run)
    place = f"{done['loc_dc']} row {done['loc_row']} rack {done['loc_rack']} U{done['loc_u_start']}-{done['loc_u_end']}"
    changed = done["changed"]
    changes = ", ".join(f"{k} {changed[k]['from'] if changed[k]['from'] not in ('', None) else '-'} -> {changed[k]['to']}"
                        for k in RACKING_ORDER if k in changed)  # fmt: skip
    if not done["changed"]:
        text = f"{done['serial']}: already racked at {place}"
    elif done["applied"]:
        text = f"{done['serial']}: racked at {place} ({changes})"
    else:
        text = f"{done['serial']}: would be racked at {place} ({changes}); nothing changed (--dry-run)"
    return Message(text, data=done)


def _show_network(args: argparse.Namespace, backend: Backend) -> Table:
    columns = [C("device", "device"), C("kind", "kind"), C("on", "on"), C("mtu", "mtu"), C("addresses", "addresses"),
               C("gateway", "gateway"), C("networks", "networks"), C("mac", "mac")]  # fmt: skip
    return Table(backend.call("machine_show_network", machine=args.machine), columns)


# machine-wait-for-install's exit codes beyond ocicli's own (0, 1, 2, 3)
EXIT_INSTALL_FAILED, EXIT_TIMED_OUT = 4, 5
WAIT_EPILOG = f"""\
exit codes:
  0  every machine is installed
  1  error (an unknown machine, the API not reachable...)
  2  usage error
  {EXIT_INSTALL_FAILED}  an install failed (the line says at which step and why), or a machine is not being installed
  {EXIT_TIMED_OUT}  --timeout passed before every install ended
"""


def _printer(args: argparse.Namespace) -> Callable[[str, Any], None]:
    """Print as it comes: the text (escaped on a terminal), or with --json one JSON object per line."""
    out = sys.stdout

    def show(text: str, data: Any) -> None:
        if getattr(args, "json", False):
            out.write(json.dumps(data, sort_keys=True, ensure_ascii=True) + "\n")
        else:
            out.write(terminal_safe(text, keep="\n\t") if out.isatty() else text)
        out.flush()

    return show


def _install_log(args: argparse.Namespace, backend: Backend) -> None:
    show, offset = _printer(args), 0
    while True:
        reply = backend.call("machine_install_log", machine=args.machine, offset=str(offset))
        if reply["text"] or getattr(args, "json", False):
            show(reply["text"], reply)
        offset = reply["offset"]
        if reply["more"]:
            continue
        if not args.follow or reply["status"] != "installing":
            return
        time.sleep(args.interval)


def progress_line(progress: dict[str, Any]) -> tuple[str, bool | None]:
    """A machine's install as one line, and whether it ended: True installed, False failed (or not being
    installed at all), None still on its way."""
    name, status, install = progress["hostname"] or progress["serial"], progress["status"], progress["install"]
    took = f" (install took {duration(install['seconds'])})" if install and install["state"] == "done" else ""
    if status == "installed":
        return f"{name}: installed{took}", True
    if status == "firstboot":
        return f"{name}: firstboot: booting from its disk{took}", None
    if status == "installing":
        if install is None or install["state"] != "running" or not install["steps"]:
            return f"{name}: installing: waiting for the installer's first step", None
        step = install["step"] or f"after {install['steps'][-1]['name']}"
        return f"{name}: installing: {step} (step {len(install['steps'])}, {duration(install['seconds'])} so far)", None
    if install and install["state"] == "failed":
        where = f" at {install['failed_step']}" if install["failed_step"] else ""
        return f"{name}: install failed{where} after {duration(install['seconds'])}: {install['error']}", False
    return f"{name}: {status}: no install running", False


@dataclass(frozen=True)
class _Awaited:
    """What a ``machine-wait-for-*`` command polls and how it words the outcome."""

    operation: str  # the progress operation asked for each machine
    line: Callable[[dict[str, Any]], tuple[str, bool | None]]  # the machine's line; True ended well, False badly
    phase: Callable[[dict[str, Any], str], object]  # a new line is printed when this changes
    done: str  # "installed: C1, C2"
    failed: str  # "install failed: C1"
    waiting: str  # "still installing: C2"
    done_key: str  # the JSON key of the machines that ended well


def _wait(args: argparse.Namespace, backend: Backend, awaited: _Awaited) -> Message:
    show = _printer(args)
    give_up = time.monotonic() + args.timeout
    waiting = list(dict.fromkeys(args.machines))
    outcome: dict[str, bool] = {}
    last: dict[str, object] = {}
    while True:
        for ident in list(waiting):
            progress = backend.call(awaited.operation, machine=ident)
            line, ended = awaited.line(progress)
            phase = awaited.phase(progress, line)
            if last.get(ident) != phase:
                last[ident] = phase
                show(line + "\n", {**progress, "line": line})
            if ended is not None:
                outcome[ident] = ended
                waiting.remove(ident)
        left = give_up - time.monotonic()
        if not waiting or left <= 0:
            break
        time.sleep(min(args.interval, left))
    failed = [ident for ident, ok in outcome.items() if not ok]
    data = {awaited.done_key: [i for i, ok in outcome.items() if ok], "failed": failed, "waiting": waiting}
    if failed:
        pending = f"; {awaited.waiting}: {', '.join(waiting)}" if waiting else ""
        return Message(f"{awaited.failed}: {', '.join(failed)}{pending}", data=data, exit_code=EXIT_INSTALL_FAILED)
    if waiting:
        return Message(f"timed out after {args.timeout:g} s; {awaited.waiting}: {', '.join(waiting)}", data=data, exit_code=EXIT_TIMED_OUT)
    return Message(f"{awaited.done}: {', '.join(outcome)}", data=data)


def _install_phase(progress: dict[str, Any], _line: str) -> object:
    # Printed when the phase changes, not each time the elapsed time does.
    install = progress["install"] or {}
    return (progress["status"], install.get("state"), install.get("step"), len(install.get("steps", ())))


INSTALL_AWAITED = _Awaited("machine_install_progress", progress_line, _install_phase, "installed", "install failed",
                           "still installing", "installed")  # fmt: skip


def _wait_for_install(args: argparse.Namespace, backend: Backend) -> Message:
    return _wait(args, backend, INSTALL_AWAITED)


PUPPET_WAIT_EPILOG = f"""\
exit codes:
  0  every machine's Puppet run succeeded
  1  error (an unknown machine, the API not reachable...)
  2  usage error
  {EXIT_INSTALL_FAILED}  a machine's Puppet run failed (the line says why), or a machine is not being installed
  {EXIT_TIMED_OUT}  --timeout passed before every machine's Puppet run ended
"""


def puppet_line(progress: dict[str, Any]) -> tuple[str, bool | None]:
    """A machine's Puppet as one line, and whether it ended: True succeeded, False failed (or Puppet will not
    run: the machine is not being installed), None still on its way."""
    name, status, puppet, run = (
        progress["hostname"] or progress["serial"],
        progress["status"],
        progress["puppet_status"],
        progress["puppet_run"],
    )
    if puppet == "success":
        took = f" (last run {run['at']}, {duration(float(run['seconds']))}, {run['changed']} changed)" if run else ""
        return f"{name}: puppet succeeded{took}", True
    if puppet == "failure":
        return f"{name}: puppet failed: {progress['error'] or 'no error line reported'}", False
    if puppet == "running":
        return f"{name}: puppet running", None
    if status in ("installing", "firstboot", "installed"):
        return f"{name}: {status}: Puppet has not started yet", None
    return f"{name}: {status}: not being installed, so Puppet will not run", False


PUPPET_AWAITED = _Awaited("machine_puppet_progress", puppet_line, lambda progress, line: line, "puppet succeeded",
                          "puppet failed", "still waiting for", "succeeded")  # fmt: skip


def _wait_for_puppet(args: argparse.Namespace, backend: Backend) -> Message:
    return _wait(args, backend, PUPPET_AWAITED)


def _add(args: argparse.Namespace, backend: Backend) -> Message:
    params = {"serial": args.serial, "cluster": args.cluster, "role": args.role, "location": args.location, "fixed_ip": args.fixed_ip}
    if args.dry_run:
        return dry_run(backend, "machine_add", params)  # type: ignore[no-any-return]
    result = backend.call("machine_add", **params)
    where = ", ".join(f"{a['address']} on {a['network']}" for a in result["addresses"]) or "no address"
    return Message(f"{args.serial} enrolled as {result['hostname']} ({where})", data=result)


ADD_MANY_EPILOG = """\
The file (- for standard input) has one machine a line: SERIAL CLUSTER ROLE LOCATION [FIXED_IP], as
machine-add takes them; blank lines and what follows # are ignored. Every machine is enrolled, or none: a
refusal names the entry (entry 3: the third machine of the file) and changes nothing.
"""


def read_enrolments(text: str, source: str) -> list[dict[str, str]]:
    """machine-add-many's file: one machine a line."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) not in (4, 5):
            raise InvalidInput(f"{source}:{number}: expected SERIAL CLUSTER ROLE LOCATION [FIXED_IP], got {len(words)} words")
        entry = dict(zip(("serial", "cluster", "role", "location", "fixed_ip"), words, strict=False))
        entries.append(entry)
    if not entries:
        raise InvalidInput(f"{source}: no machine in it")
    return entries


def _add_many(args: argparse.Namespace, backend: Backend) -> Table:
    source = "standard input" if args.file == "-" else args.file
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {source}: {getattr(exc, 'strerror', None) or exc}") from None
    rows = backend.call("machine_add_many", machines=read_enrolments(text, source))
    for row in rows:
        row["addresses"] = " ".join(f"{a['address']}@{a['network']}" for a in row["addresses"])
    columns = [Column(k, k) for k in ("serial", "hostname", "cluster", "role", "location", "addresses")]
    return Table(rows, columns)


def _remove(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("machine_remove", machine=args.machine)
    return Message(f"{result['serial']} ({result['hostname']}) removed from its cluster", data=result)


def _destroy(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("machine_destroy", machine=args.machine)
    return Message(f"machine {result['serial']} destroyed", data=result)


def _set(args: argparse.Namespace, backend: Backend) -> Record:
    values, unset = setting_values(args, MACHINE_SETTINGS)
    result = backend.call("machine_set", machine=args.machine, settings=values, unset=unset, hostname=args.hostname)
    return Record(result, order=SHOW_ORDER)


def _ip_list(args: argparse.Namespace, backend: Backend) -> Table:
    return Table(
        backend.call("machine_ip_list", machine=args.machine), [C("network", "network"), C("address", "ipaddr"), C("kind", "usefor")]
    )


def _ip_add(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("machine_ip_add", machine=args.machine, network=args.network, address=args.address)
    return Message(f"{result['address']} added to {result['serial']} on {result['network']}", data=result)


def _ip_remove(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("machine_ip_remove", machine=args.machine, address=args.address)
    return Message(f"{result['address']} removed", data=result)


def _conflicts(args: argparse.Namespace, backend: Backend) -> Table:
    columns = [C("address", "address"), C("route", "route"), C("first", "first"), C("last", "last"), C("count", "count")]
    return Table(backend.call("machine_conflicts", machine=args.machine), columns)


def _conflicts_clear(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("machine_conflicts_clear", machine=args.machine)
    return Message(f"{result['cleared']} conflict(s) of {result['serial']} forgotten", data=result)


def _accept_address(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("machine_accept_address", machine=args.machine, address=args.address)
    return Message(f"{result['serial']} now reports from {result['address']}", data=result)


def _install_os(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("machine_install_os", machine=args.machine, dry_run=args.dry_run)
    if args.dry_run:
        return Message(result["plan"] + "dry run: nothing was changed", data=result)
    text = f"{result['serial']} is installing: started {result['command']} on {result['address']}\n{result['summary']}"
    if "warning" in result:
        text += f"\nwarning: {result['warning']}"
    return Message(text, data=result)


def _display_install_cmd(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("machine_display_install_cmd", machine=args.machine)
    return Message(f"{result['command']}\n{result['summary']}", data=result)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = command(sub, common, "machine-list", _list, "list machines", add_help=False)
    p.add_argument("--help", action="help", help="show this help message and exit")
    p.add_argument("-a", "--all", action="store_true", help="show every column group")
    for flag, (label, _) in GROUPS.items():
        p.add_argument(f"-{flag}", dest=f"group_{flag}", action="store_true", help=f"add the {label} columns")
    p.add_argument("-o", "--order", choices=("serial", "hostname"), default="serial", help="sort order (default: serial)")

    p = command(sub, common, "machine-show", _show, "show everything known about a machine")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-install-log", _install_log, "print the install log of a machine (read on the node over SSH)")
    p.add_argument("machine", help="serial or hostname")
    p.add_argument("-f", "--follow", action="store_true", help="print the log as it grows, until the machine is no longer installing")
    p.add_argument(
        "--interval", type=seconds, default=2.0, metavar="SECONDS", help="with --follow: read it again every SECONDS (default: 2)"
    )

    p = command(sub, common, "machine-wait-for-install", _wait_for_install,
                "wait until machines are installed, printing each one's progress as it changes",
                epilog=WAIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("machines", nargs="+", metavar="machine", help="serial or hostname")
    p.add_argument("--timeout", type=seconds, default=3600.0, metavar="SECONDS", help="give up after SECONDS (default: 3600)")
    p.add_argument("--interval", type=seconds, default=2.0, metavar="SECONDS", help="ask every SECONDS (default: 2)")

    p = command(sub, common, "machine-wait-for-puppet", _wait_for_puppet,
                "wait until machines' first Puppet runs succeed, printing each one's puppet status as it changes",
                epilog=PUPPET_WAIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("machines", nargs="+", metavar="machine", help="serial or hostname")
    p.add_argument("--timeout", type=seconds, default=3600.0, metavar="SECONDS", help="give up after SECONDS (default: 3600)")
    p.add_argument("--interval", type=seconds, default=5.0, metavar="SECONDS", help="ask every SECONDS (default: 5)")

    p = command(sub, common, "machine-show-network", _show_network, "show the network planned for a machine (oci-netconf renders it)")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-guessed-profile", _guessed_profile,
                "the hardware profiles a machine fits, and the one that applies (docs/profiles.md)")  # fmt: skip
    p.add_argument("machine", help="serial or hostname")
    p.add_argument("-d", "--debug-profiles", action="store_true", help="every profile, with why the machine does not fit it")

    p = command(sub, common, "profile-list", _profile_list, "list the hardware profiles (docs/profiles.md)")

    p = command(sub, common, "machine-replace", _replace,
                "a new live machine takes an enrolled one's place: hostname, cluster, role, location, settings, addresses")  # fmt: skip
    p.add_argument("old", help="the enrolled machine (serial or hostname); its record goes")
    p.add_argument("new", help="the serial of the live machine that takes its place")

    p = command(sub, common, "machine-wipe", _wipe, "erase every disk of a live machine in no cluster, through its live image")
    p.add_argument("--yes", action="store_true", help="confirm: what it erases cannot be had back")
    p.add_argument("machine", help="serial")

    p = command(sub, common, "machine-gen-root-pass", _gen_root_pass,
                "give an installed machine a random root password, shown once (the master keeps a copy for root alone)")  # fmt: skip
    p.add_argument("machine", help="serial or hostname")
    p = command(sub, common, "machine-forget-root-pass", _forget_root_pass, "remove the master's copy of a machine's root password")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-blk", _blk, "list a machine's reported block devices")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-show-from-hostname", _from_hostname, "show the machine of a hostname as one row of machine-list")
    p.add_argument("hostname")

    p = command(sub, common, "machine-auto-add", _auto_add,
                "enrol a machine with its hardware profile's role, its rack's location and the configured cluster")  # fmt: skip
    p.add_argument("--cluster", help="the cluster (default: the configuration's [fleet] auto_add_cluster)")
    p.add_argument("--dry-run", action="store_true", help="say where it would go and why, and change nothing")
    p.add_argument("machine", help="serial")

    p = command(sub, common, "machine-report-counter-reset", _report_counter_reset,
                "count a machine's reports from zero again: the automatic steps run again as the count reaches them")  # fmt: skip
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-guess-racking", _guess_racking,
                "where a machine sits (datacentre, row, rack, units), from its LLDP neighbours (docs/racking.md)")  # fmt: skip
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-auto-rack", _auto_rack, "write a machine's guessed rack into its settings (loc_dc .. loc_u_end)")
    p.add_argument("--dry-run", action="store_true", help="say what would change, and change nothing")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-add", _add, "enrol a live machine in a cluster with a role")
    p.add_argument("--fixed-ip", metavar="IP", help="address on the machine's management network instead of the lowest free one")
    p.add_argument("--dry-run", action="store_true", help="show how the hosts' classifications would change, and change nothing")
    p.add_argument("serial")
    p.add_argument("cluster")
    p.add_argument("role")
    p.add_argument("location")

    p = command(sub, common, "machine-add-many", _add_many, "enrol several live machines at once, from a file (all or none)",
                epilog=ADD_MANY_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("file", help="one machine a line: SERIAL CLUSTER ROLE LOCATION [FIXED_IP]; - for standard input")

    p = command(sub, common, "machine-remove", _remove, "take a machine out of its cluster (keeps its hardware record)")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-destroy", _destroy, "forget a machine that is in no cluster")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-set", _set, "change per-machine settings or the hostname")
    p.add_argument("machine", help="serial or hostname")
    p.add_argument("--hostname", metavar="FQDN", help="override the computed hostname (before install only)")
    add_setting_options(p, MACHINE_SETTINGS)

    p = command(sub, common, "machine-ip-list", _ip_list, "list a machine's addresses")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-ip-add", _ip_add, "give a machine an extra address on a network of its cluster")
    p.add_argument("machine", help="serial or hostname")
    p.add_argument("network")
    p.add_argument("address")

    p = command(sub, common, "machine-ip-remove", _ip_remove, "take an address away from a machine")
    p.add_argument("machine", help="serial or hostname")
    p.add_argument("address")

    p = command(sub, common, "machine-conflicts", _conflicts, "list requests for a machine refused because they came from another address")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-conflicts-clear", _conflicts_clear, "forget a machine's recorded conflicts")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-accept-address", _accept_address,
                "after a genuine renumbering: accept a machine's reports from a new address")  # fmt: skip
    p.add_argument("machine", help="serial or hostname")
    p.add_argument("address", help="the address its reports now come from")

    p = command(sub, common, "machine-install-os", _install_os,
                "install Debian on a live machine of a cluster: hand it its bundle and start oci-install there")  # fmt: skip
    p.add_argument("--dry-run", action="store_true", help="print the install plan (disks, RAID, packages, files) and change nothing")
    p.add_argument("machine", help="serial or hostname")

    p = command(sub, common, "machine-display-install-cmd", _display_install_cmd,
                "show the command machine-install-os runs on the node, and the plan in one line")  # fmt: skip
    p.add_argument("machine", help="serial or hostname")
