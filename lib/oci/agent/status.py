"""``oci-report-status``: a node tells the master where it stands (live, installing, ... puppet-success).

The serial is the one the discovery agent uses (``--serial``, else /etc/oci/system-serial, else computed
from dmidecode and the network ports the same way, then kept in that file for the next calls).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
from pathlib import Path

from oci import values
from oci.agent.collect import Runner, system_runner
from oci.agent.daemon import HOST_KEY, SERVER_FILE, AgentError, Poster, poster, server_url
from oci.cli.edge import edge
from oci.discover.report import Captures, build
from oci.model import Phase
from oci.run import CommandError

SERIAL_FILE = Path("/etc/oci/system-serial")


def machine_serial(runner: Runner = system_runner, cache: Path = SERIAL_FILE) -> str:
    try:
        cached = cache.read_text().strip()
    except OSError:
        cached = ""
    if cached:
        return cached
    captures = Captures()
    for attribute, argv in (("dmidecode", ["dmidecode"]), ("ip_link_json", ["ip", "-j", "link", "show"])):
        with contextlib.suppress(CommandError):  # the report builder falls back as far as it can
            setattr(captures, attribute, runner(argv))
    serial = build(captures).get("serial")
    if not serial:
        raise AgentError("cannot tell this machine's serial: no DMI serial and no Ethernet port (give --serial)")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(serial + "\n")
    except OSError:
        pass  # a read-only root still gets its answer, computed again next time
    return str(serial)


def _seconds(text: str) -> float:
    value = values.number(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    return value


@edge("oci-report-status")
def main(argv: list[str] | None = None, post: Poster | None = None, runner: Runner = system_runner) -> int:
    parser = argparse.ArgumentParser(
        prog="oci-report-status",
        description="Tell the OCI master where this machine stands.",
        epilog="Exit codes: 0 recorded, 1 error (master unreachable, machine or status refused), 2 usage.",
    )
    parser.add_argument("status", choices=[p.value for p in Phase])
    parser.add_argument("--address", metavar="IP", help="the machine's management address (with installed)")
    parser.add_argument("--step", metavar="NAME", help="an install step: starting (with installing), failed (with live and --error)")
    parser.add_argument("--seconds", metavar="S", type=_seconds, help="the step took S seconds: it ended (with installing and --step)")
    parser.add_argument("--error", metavar="TEXT", help="why the install failed, one line (with live)")
    parser.add_argument("--server", metavar="URL", help=f"master URL or HOST[:PORT] (default: read from {SERVER_FILE})")
    parser.add_argument("--serial", help=f"this machine's serial (default: {SERIAL_FILE}, or found as the agent does)")
    parser.add_argument("--host-key", type=Path, default=HOST_KEY,
                        help=f"sign the status with this key once the master has certified it (default {HOST_KEY})")  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    url = server_url(args.server).removesuffix("/api/v1/report") + "/api/v1/status"
    body: dict[str, object] = {"version": 1, "serial": args.serial or machine_serial(runner), "status": args.status}
    for key in ("address", "step", "seconds", "error"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    try:
        code, text = (post or poster(args.host_key))(url, json.dumps(body).encode())
    except OSError as exc:
        raise AgentError(f"master not reachable at {url}: {exc}") from None
    if code != 200:
        try:
            message = json.loads(text)["message"]
        except (ValueError, KeyError, TypeError):
            message = text[:200]
        raise AgentError(f"status refused (HTTP {code}): {message}")
    return 0
