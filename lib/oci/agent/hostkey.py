"""``oci-live-host-key``: a live node's master address and SSH host identity, at boot.

Two steps, run by two oneshot units of the live image:

``prepare`` (before sshd and the agent start): the master's address from the kernel command line
(``oci.master=HOST[:PORT]``) goes to /etc/oci/pxe-server-ip, which the agent reads; without it the address
written there when the image was built stays. Then the node's own ed25519 host key is made: the image
carries none, since every node booting it would share it.

``sign`` (after the agent's first report): the public host key goes to the master
(``POST /api/v1/ssh/host-key``), which signs it with the live host CA, only for a machine it knows and only
when asked from the address that machine reports from. The certificate is written beside the key, a
drop-in points sshd at it and sshd reloads: the master then accepts the node by certificate, not on first
use. Until the first report has created the machine the master answers 404, so that (like an unreachable
master or an HTTP 5xx) is retried with growing delays; a request it refuses (400) is not.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oci.agent.collect import Runner, system_runner
from oci.agent.daemon import SERVER_FILE, AgentError, Poster, http_post, server_url
from oci.agent.status import SERIAL_FILE, machine_serial
from oci.cli.edge import Parser, edge
from oci.config import DEFAULT_TEMPLATES_DIR
from oci.templates import Templates, shipped
from oci.templates import load as load_templates

LOG = logging.getLogger("oci-live-host-key")
CMDLINE = Path("/proc/cmdline")
HOST_KEY = Path("/etc/ssh/ssh_host_ed25519_key")
DROP_IN = Path("/etc/ssh/sshd_config.d/oci-live-host-certificate.conf")
DROP_IN_TEMPLATE = "sshd-host-certificate.conf.j2"
PARAMETER = "oci.master"
# HOST[:PORT] (HOST: a name, an IPv4 address or a bracketed IPv6 address), or a URL of the API's base (the
# iPXE script gives [boot] url): what the agent's server_url() takes.
_MASTER = re.compile(
    r"(?P<scheme>https?://)?(?P<host>[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::(?P<port>[0-9]{1,5}))?(?P<path>/[A-Za-z0-9._~/-]*)?"
)
_RETRIED = {403, 404}  # not known yet (404), or not yet at the address it reports from (403): the next report fixes both


class Refused(AgentError):
    """The master answered and will not sign: asking again would not change its answer."""


def master_from_cmdline(cmdline: str) -> str | None:
    """The value of the last ``oci.master=`` on a kernel command line (later ones override, as for the
    kernel's own parameters): HOST[:PORT] or http(s)://HOST[:PORT][/PATH] without a trailing slash; None
    without one. A malformed value is an error, not a guess."""
    try:
        words = shlex.split(cmdline)
    except ValueError:  # an unbalanced quote elsewhere on the line: the kernel splits on blanks
        words = cmdline.split()
    values = [w.split("=", 1)[1] for w in words if w.startswith(f"{PARAMETER}=")]
    if not values:
        return None
    value = values[-1]
    found = _MASTER.fullmatch(value)
    if found is None or (found["port"] is not None and not 0 < int(found["port"]) < 65536) or (found["path"] and not found["scheme"]):
        raise AgentError(f"{PARAMETER}={value!r} on the kernel command line is not HOST[:PORT] or http://HOST[:PORT][/PATH]")
    return value.rstrip("/")


def write_master(cmdline: Path = CMDLINE, server_file: Path = SERVER_FILE) -> str:
    """Put the kernel command line's master address in ``server_file``; the address the agent will use."""
    value = master_from_cmdline(cmdline.read_text())
    if value is not None:
        if not server_file.is_file() or server_file.read_text().strip() != value:
            server_file.parent.mkdir(parents=True, exist_ok=True)
            _write(server_file, value + "\n", 0o644)
        return value
    try:
        built_in = server_file.read_text().strip()
    except OSError:
        built_in = ""
    if not built_in:
        raise AgentError(f"no master address: boot with {PARAMETER}=HOST[:PORT] or build the image with MASTER=")
    return built_in


def ensure_host_key(key: Path = HOST_KEY, runner: Runner = system_runner) -> str:
    """This node's ed25519 host key (made now if missing); its public half."""
    public = key.with_name(key.name + ".pub")
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        runner(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@oci-live", "-f", str(key)])
    return public.read_text().strip()


def request_certificate(url: str, serial: str, public_key: str, post: Poster) -> dict[str, Any]:
    """One request; the reply's data. OSError for what may pass (no answer, 5xx, 403, 404), Refused otherwise."""
    try:
        code, text = post(url, json.dumps({"serial": serial, "public_key": public_key}).encode())
    except OSError as exc:
        raise OSError(f"master not reachable at {url}: {exc}") from None
    try:
        reply = json.loads(text)
    except ValueError:
        reply = {}
    message = reply.get("message", text[:200]) if isinstance(reply, dict) else text[:200]
    if code == 200 and isinstance(reply, dict) and isinstance(reply.get("data"), dict):
        data: dict[str, Any] = reply["data"]
        if str(data.get("certificate", "")).startswith("ssh-ed25519-cert-v01@openssh.com "):
            return data
        raise Refused(f"the master's reply holds no ed25519 host certificate: {text[:200]}")
    if code >= 500 or code in _RETRIED:
        raise OSError(f"HTTP {code}: {message}")
    raise Refused(f"host key refused (HTTP {code}): {message}")


def sshd_drop_in(certificate: Path, templates: Templates | None = None) -> str:
    """The sshd configuration drop-in that presents the host certificate at ``certificate``."""
    return (templates or shipped()).render(DROP_IN_TEMPLATE, {"certificate": os.fspath(certificate)})


def install_certificate(certificate: str, key: Path = HOST_KEY, drop_in: Path = DROP_IN, templates: Templates | None = None) -> Path:
    """Write the certificate beside the key and the sshd drop-in that presents it; the certificate's path."""
    path = key.with_name(key.name + "-cert.pub")
    text = sshd_drop_in(path, templates)  # first: a broken template override leaves sshd's files alone
    _write(path, certificate.strip() + "\n", 0o644)
    drop_in.parent.mkdir(parents=True, exist_ok=True)
    _write(drop_in, text, 0o644)
    return path


def reload_sshd(runner: Runner = system_runner) -> None:
    # try-reload-or-restart: a running sshd rereads its configuration; one not started yet reads it when it starts.
    runner(["systemctl", "try-reload-or-restart", "ssh.service"])


def sign(
    url: str,
    serial: str,
    public_key: str,
    post: Poster,
    attempts: int = 12,
    delay: float = 5.0,
    max_delay: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Ask until the master signs: ``attempts`` requests, the delays doubling from ``delay`` to ``max_delay``."""
    for attempt in range(1, attempts + 1):
        try:
            return request_certificate(url, serial, public_key, post)
        except Refused:
            raise
        except OSError as exc:
            LOG.warning("host key not signed yet (attempt %d of %d): %s", attempt, attempts, exc)
            if attempt == attempts:
                raise AgentError(f"host key not signed after {attempts} attempts: {exc}") from None
        sleep(delay)
        delay = min(delay * 2, max_delay)
    raise AgentError("host key not signed: no attempt made")  # attempts < 1


def _write(path: Path, text: str, mode: int) -> None:
    """Replace ``path`` whole (a reader sees the old file or the new one, never half of one)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


@edge("oci-live-host-key")
def main(
    argv: list[str] | None = None,
    post: Poster = http_post,
    runner: Runner = system_runner,
    sleep: Callable[[float], None] = time.sleep,
    cmdline: Path = CMDLINE,
    server_file: Path = SERVER_FILE,
    serial_file: Path = SERIAL_FILE,
    key: Path = HOST_KEY,
    drop_in: Path = DROP_IN,
    templates_dir: Path = DEFAULT_TEMPLATES_DIR,  # a live node has no OCI configuration: the default folder
) -> int:
    parser = Parser(
        prog="oci-live-host-key",
        description="The live image's boot steps: the master's address from the kernel command line and a host key (prepare), "
        "then the host key signed by the master and presented by sshd (sign).",
        epilog=f"The master's address: {PARAMETER}=HOST[:PORT] on the kernel command line, else {server_file} as built. "
        "Exit codes: 0 done, 1 error (no master address, not signed), 2 usage.",
    )
    sub = parser.add_subparsers(dest="step", required=True, metavar="STEP", parser_class=Parser)
    sub.add_parser("prepare", help=f"write the master's address to {server_file} and make the ed25519 host key if missing")
    signing = sub.add_parser("sign", help="have the master sign the host key, install the certificate and reload sshd")
    signing.add_argument("--server", metavar="URL", help=f"master URL or HOST[:PORT] (default: read from {server_file})")
    signing.add_argument("--serial", help=f"this machine's serial (default: {serial_file}, or found as the agent does)")
    signing.add_argument("--attempts", type=int, default=12, help="requests before giving up (default 12, about 9 minutes)")
    signing.add_argument("--no-reload", action="store_true", help="do not reload sshd")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    if args.step == "prepare":
        ensure_host_key(key, runner)  # first: sshd needs it even when the master's address is missing
        master = write_master(cmdline, server_file)
        LOG.info("master %s; host key %s", master, key)
        return 0
    if args.attempts < 1:
        parser.error("--attempts must be at least 1")
    url = server_url(args.server, server_file).removesuffix("/api/v1/report") + "/api/v1/ssh/host-key"
    public_key = ensure_host_key(key, runner)
    serial = args.serial or machine_serial(runner, serial_file)
    data = sign(url, serial, public_key, post, attempts=args.attempts, sleep=sleep)
    path = install_certificate(data["certificate"], key, drop_in, load_templates(templates_dir))
    if not args.no_reload:
        reload_sshd(runner)
    LOG.info("host certificate %s for %s", path, ", ".join(str(p) for p in data.get("principals", [])))
    return 0
