"""machine-*ipmi* and reboot commands, and check-all-ipmi."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from oci.cli.backend import Backend, LocalBackend
from oci.cli.common import command
from oci.cli.output import Column, Message, Table
from oci.service.bmcops import VERBS


def _set(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("machine_set_ipmi", machine=args.machine, use=args.use, address=args.address, port=args.port, user=args.user,
                          password=args.password)  # fmt: skip
    return Message(
        f"BMC of {result['serial']}: {result['address']}:{result['port']} ({'in use' if result['use'] else 'not used'})", data=result
    )


def _cmd(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("machine_ipmi_cmd", machine=args.machine, verb=args.verb)
    return Message(f"{result['serial']}: {args.verb}: {result['result']}", data=result)


def _reboot(operation: str) -> Any:
    def handler(args: argparse.Namespace, backend: Backend) -> Message:
        result = backend.call(operation, machine=args.machine)
        text = f"{result['serial']} rebooting through its {'BMC' if result['via'] == 'bmc' else 'operating system'} ({result['status']})"
        for key in ("warning", "node_error"):
            if result.get(key):
                text += f"\n  {key.replace('_', ' ')}: {result[key]}"
        return Message(text, data=result)

    return handler


CONSOLE_EPILOG = """\
On the master, on a terminal, without --seconds or --keys: the console itself, until ~. is typed at the
start of a line (~~ sends one ~). Otherwise (through the API, or in a script): what the console shows in
--seconds (5 by default) after typing --keys, where \\r, \\n, \\t and \\\\ stand for a carriage return,
a newline, a tab and a backslash (--keys '\\r' wakes a login prompt).
"""
_KEY_ESCAPES = {"r": "\r", "n": "\n", "t": "\t", "\\": "\\"}


def console_keys(text: str) -> str:
    """--keys with its escapes read (\\r, \\n, \\t, \\\\); any other backslash stays as typed."""
    out, chars = [], iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_KEY_ESCAPES.get(following, "\\" + following))
        else:
            out.append(char)
    return "".join(out)


def _console(args: argparse.Namespace, backend: Backend) -> Message:
    interactive = args.seconds is None and args.keys is None and isinstance(backend, LocalBackend) and sys.stdin.isatty()
    if interactive:
        result = backend.call("machine_console_attach", machine=args.machine)
        return Message(f"\nleft the console of {result['serial']} after {result['seconds']} s", data=result)
    keys = console_keys(args.keys) if args.keys is not None else None
    result = backend.call("machine_console", machine=args.machine, seconds=args.seconds, keys=keys)
    return Message(result["output"].replace("\r\n", "\n"), data=result)


def _check(args: argparse.Namespace, backend: Backend) -> Table:
    columns = [Column("serial", "serial"), Column("bmc", "bmc"), Column("reachable", "reachable"), Column("power", "power"),
               Column("error", "error")]  # fmt: skip
    return Table(backend.call("check_all_ipmi", filter=args.filter), columns)


def _assign_check(args: argparse.Namespace, backend: Backend) -> Table:
    columns = [Column(k, k) for k in ("serial", "hostname", "assigned", "reported", "network", "state")]
    return Table(backend.call("ipmi_assign_check", all="yes" if args.all else "no"), columns)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = command(sub, common, "machine-set-ipmi", _set, "record how to reach a machine's BMC (the password is never listed)")
    p.add_argument("machine", help="serial or hostname")
    p.add_argument("use", help="yes or no")
    p.add_argument("address")
    p.add_argument("port")
    p.add_argument("user")
    p.add_argument("password")
    p = command(sub, common, "machine-ipmi-cmd", _cmd, "one IPMI action on a machine's BMC")
    p.add_argument("machine", help="serial or hostname")
    p.add_argument("verb", choices=VERBS)
    for name, operation, text in (
        ("machine-ipmi-reboot-on-live", "machine_ipmi_reboot_on_live", "boot once from the network into the live image (BMC)"),
        ("machine-ipmi-reboot-on-hdd", "machine_ipmi_reboot_on_hdd", "boot from disk from now on (BMC)"),
        ("machine-reboot-on-live", "machine_reboot_on_live", "reboot into the live image: through the node over SSH, else its BMC"),
        ("machine-reboot-on-hdd", "machine_reboot_on_hdd", "reboot onto the disk: through the node over SSH, else its BMC"),
    ):
        p = command(sub, common, name, _reboot(operation), text)
        p.add_argument("machine", help="serial or hostname")
    p = command(sub, common, "machine-console", _console, "the machine's serial console through its BMC (serial over LAN)",
                epilog=CONSOLE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("machine", help="serial or hostname")
    p.add_argument("--seconds", type=int, help="read the console this long (1 to 60) instead of attaching to it")
    p.add_argument("--keys", help="type these first (then read the console instead of attaching to it)")
    p = command(sub, common, "check-all-ipmi", _check, "ask every configured BMC its power state, a few at a time")
    p.add_argument("filter", nargs="?", help="only serials containing this text")
    p = command(sub, common, "ipmi-assign-check", _assign_check, "machines whose BMC is not at the address OCI assigned")
    p.add_argument("--all", action="store_true", help="every machine with BMC access, matching or not")
