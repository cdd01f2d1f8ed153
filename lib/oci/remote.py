"""Commands on a node over SSH, checked both ways by OCI's SSH certificate authorities.

The master logs in as root with its own key (``<state>/ssh/master/id_ed25519``, mode 0600) and a user
certificate it signs for each call, valid ten minutes, with the user CA the node trusts: the live user CA
for a node in the live image, its cluster's user CA for an installed node. It accepts the node only with a
host certificate from the matching host CA for the name the node must have (``<serial>.oci-debian-live`` or
its FQDN): a node answering at another machine's address is refused, and no known_hosts grows by
trust-on-first-use. Commands are argv lists, quoted for the remote shell.
"""

from __future__ import annotations

import shlex
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from oci.errors import Conflict
from oci.model import AllocationKind, Machine, MachineStatus, Network
from oci.pki import ssh
from oci.run import CommandError, run
from oci.store import Store

MASTER_FOLDER = "master"
CALL_VALIDITY = "-5m:+10m"
# In these states the node runs the live image, whose host key the live CA signed.
_LIVE_STATES = (MachineStatus.LIVE, MachineStatus.INSTALLING)


class NodeUnreachable(Conflict):
    """SSH could not reach the node or authenticate it (as opposed to a command that ran and failed)."""


@dataclass(frozen=True)
class Node:
    serial: str
    address: str
    name: str  # the name its host certificate must carry (lower case, as ssh compares it)
    cluster: str | None  # whose CAs; None: the live image's


def node_of(store: Store, serial: str) -> Node:
    """Where ``serial`` answers now, and under which name and CA."""
    machine = store.get(Machine, serial)
    live = machine.enrolment is None or machine.status in _LIVE_STATES
    beat = store.heartbeat(serial)
    address = str(beat.address) if beat and beat.address else None
    if not live:  # an installed node speaks from its own address (status posts); else its first allocation
        spoken = [p.address for p in machine.history if p.address is not None]
        owned = sorted(
            str(a.address) for n in store.all(Network) for a in n.allocations if a.kind is AllocationKind.MACHINE and a.owner == serial
        )
        address = str(spoken[-1]) if spoken else (owned[0] if owned else address)
    if address is None:
        raise NodeUnreachable(f"machine {serial} has no known address")
    if live:
        return Node(serial, address, f"{serial}.{ssh.LIVE_DOMAIN}".lower(), None)
    assert machine.enrolment is not None
    return Node(serial, address, machine.enrolment.hostname.lower(), machine.enrolment.cluster)


def _master_key(store: Store) -> tuple[Path, str]:
    """The master's SSH key (created on first use) and its public half."""
    path = store.blob_path("ssh", MASTER_FOLDER, "id_ed25519")
    if store.read_blob("ssh", MASTER_FOLDER, "id_ed25519") is None:
        with store.topology_lock():
            if store.read_blob("ssh", MASTER_FOLDER, "id_ed25519") is None:
                private, public_key = ssh.new_key()
                store.write_blob("ssh", MASTER_FOLDER, "id_ed25519.pub", data=public_key + b" oci-master\n")
                store.write_blob("ssh", MASTER_FOLDER, "id_ed25519", data=private, mode=0o600)
    public_text = store.read_blob("ssh", MASTER_FOLDER, "id_ed25519.pub")
    assert public_text is not None
    return path, public_text.decode().strip()


def probe(address: str, port: int, timeout: float) -> None:
    """Is anything listening? A quick, clear NodeUnreachable before any key or CA is made for nothing."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc)).lower()
        raise NodeUnreachable(f"nothing answers on {address}:{port} ({reason})") from None


def _login_files(store: Store, node: Node, folder: Path, key: Path, public: str, validity: str) -> dict[str, str]:
    """The user certificate (``validity``) and known_hosts of a login to ``node`` written in ``folder``; the ssh
    options that use them."""
    cfg = store.config
    certificate = folder / "id-cert.pub"
    certificate.write_text(ssh.sign(store, node.cluster, public, "oci-master", ["root"], host=False, validity=validity) + "\n")
    known_hosts = folder / "known_hosts"
    known_hosts.write_text(f"@cert-authority {node.name} {ssh.public_ca(store, node.cluster)}\n")
    return {"Port": str(cfg.ssh_port), "IdentityFile": str(key), "CertificateFile": str(certificate), "IdentitiesOnly": "yes",
            "ConnectTimeout": str(cfg.ssh_connect_timeout), "StrictHostKeyChecking": "yes", "UserKnownHostsFile": str(known_hosts),
            "GlobalKnownHostsFile": "/dev/null", "HostKeyAlias": node.name}  # fmt: skip


def login_config(store: Store, serial: str, alias: str, folder: Path, validity: str = "-5m:+1d") -> str:
    """An ssh_config ``Host`` block for an operator to log in to ``serial`` as root under ``alias`` (the PoC's
    ``--keep``): the master's key, a user certificate valid ``validity``, the node's host CA; files in ``folder``
    (root's, made 0700 here)."""
    node = node_of(store, serial)
    key, public = _master_key(store)
    ssh.ensure_cas(store, node.cluster)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    options = _login_files(store, node, folder, key, public, validity)
    lines = [f"Host {alias}", f"    HostName {node.address}", "    User root", *(f"    {k} {v}" for k, v in options.items())]
    return "\n".join(lines) + "\n"


def run_on(store: Store, node: Node, argv: Sequence[str], timeout: float = 60, stdin: bytes | None = None) -> str:
    """Run ``argv`` as root on ``node``; its output. NodeUnreachable if SSH fails, CommandError if the command does.
    ``stdin``: bytes the command reads (a file handed over through the same checked channel: no scp, no second login)."""
    cfg = store.config
    probe(node.address, cfg.ssh_port, cfg.ssh_connect_timeout)
    key, public = _master_key(store)
    ssh.ensure_cas(store, node.cluster)
    with tempfile.TemporaryDirectory(prefix="oci-ssh-") as tmp:
        options = _login_files(store, node, Path(tmp), key, public, CALL_VALIDITY)
        command = ["ssh", "-F", "/dev/null", *(f"-o{k}={v}" for k, v in options.items()), "-o", "BatchMode=yes",
                   "-o", "LogLevel=ERROR", f"root@{node.address}", "--", shlex.join(argv)]  # fmt: skip
        try:
            return run(command, timeout=timeout, input_bytes=stdin).stdout
        except CommandError as exc:
            if exc.returncode == 255 or exc.returncode is None:  # ssh's own failure (or no answer at all)
                reason = exc.output.strip().splitlines()[-1] if exc.output.strip() else "no answer"
                raise NodeUnreachable(f"cannot reach {node.serial} over SSH at {node.address}: {reason}") from None
            raise
