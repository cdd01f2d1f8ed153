"""SSH certificate authorities: per cluster a host CA and a user CA, and a pair for the live image.

Keys are Ed25519 in OpenSSH format, made with the cryptography library; certificates are signed with
``ssh-keygen -s`` (through ``oci.run``), since the cryptography of Debian 12 cannot build SSH certificates.
Files: ``<state>/ssh/cluster-<name>/{host_ca,host_ca.pub,user_ca,user_ca.pub}`` and ``<state>/ssh/live/`` (the
live image trusts the live user CA, so the master logs in with a certificate it signs for itself);
private keys mode 0600. The live image never holds a CA key: a live node sends its public host key to the
master, which signs it only for a machine it knows, at the address it reports from.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from oci import names
from oci.errors import InvalidInput, NotFound
from oci.run import run
from oci.store import Store

LIVE = "live"  # the folder of the live-image CAs
LIVE_DOMAIN = "oci-debian-live"  # the live image's host name is <serial>.oci-debian-live (as in the reference)
_PUBLIC_KEY = re.compile(r"(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/=]{40,2000}( [^\n]{0,200})?")
HOST_VALIDITY = "-5m:+825d"
USER_VALIDITY = "-5m:+1d"


def ca_folder(cluster: str | None) -> str:
    # Cluster folders are prefixed so that a cluster named "live" cannot collide with the live CA.
    return LIVE if cluster is None else f"cluster-{names.cluster(cluster)}"


def new_key() -> tuple[bytes, bytes]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public


def ensure_cas(store: Store, cluster: str | None) -> dict[str, str]:
    """Create the host and user CAs of a cluster (``None``: the live-image host CA) if missing."""
    folder = ca_folder(cluster)
    kinds = ("host_ca", "user_ca")  # the live user CA lets the master log into live nodes
    with store.topology_lock():
        for kind in kinds:
            if store.read_blob("ssh", folder, kind) is None:
                private, public = new_key()
                comment = f" oci-{kind.replace('_', '-')}@{cluster or 'live'}".encode()
                store.write_blob("ssh", folder, f"{kind}.pub", data=public + comment + b"\n")
                store.write_blob("ssh", folder, kind, data=private, mode=0o600)
    return {kind: str(store.blob_path("ssh", folder, f"{kind}.pub")) for kind in kinds}


def public_ca(store: Store, cluster: str | None, kind: str = "host_ca") -> str:
    data = store.read_blob("ssh", ca_folder(cluster), f"{kind}.pub")
    if data is None:
        raise NotFound(f"no SSH {kind.replace('_', ' ')} for {cluster or 'the live image'}")
    return data.decode().strip()


def known_hosts_line(store: Store, cluster: str, domain: str) -> str:
    """What an operator adds to known_hosts to trust every host of the cluster."""
    return f"@cert-authority *.{domain} {public_ca(store, cluster)}"


def check_public_key(text: str) -> str:
    key = text.strip()
    if not _PUBLIC_KEY.fullmatch(key):
        raise InvalidInput("not an OpenSSH public key (ssh-ed25519, ecdsa-sha2-*, ssh-rsa)")
    return key


def sign(
    store: Store,
    cluster: str | None,
    public_key: str,
    identity: str,
    principals: Sequence[str],
    host: bool = True,
    validity: str | None = None,
) -> str:
    """An OpenSSH certificate for ``public_key``, valid for ``principals`` (host names and addresses)."""
    key = check_public_key(public_key)
    kind = "host_ca" if host else "user_ca"
    ca_path = store.blob_path("ssh", ca_folder(cluster), kind)
    if not ca_path.exists():
        ensure_cas(store, cluster)
    for principal in principals:
        if not principal or "," in principal or any(c.isspace() for c in principal):
            raise InvalidInput(f"invalid principal {principal!r}")
    with tempfile.TemporaryDirectory(prefix="oci-ssh-") as tmp:
        pub = Path(tmp) / "key.pub"
        pub.write_text(key + "\n")
        argv = ["ssh-keygen", "-q", "-s", str(ca_path), "-I", identity, "-n", ",".join(principals)]
        argv += ["-h", "-V", validity or HOST_VALIDITY] if host else ["-V", validity or USER_VALIDITY]
        run([*argv, str(pub)], timeout=30)
        return (Path(tmp) / "key-cert.pub").read_text().strip()


def describe(certificate: str) -> dict[str, Any]:
    """``ssh-keygen -L`` of a certificate: type, principals, signing CA (for tests and operators)."""
    with tempfile.TemporaryDirectory(prefix="oci-ssh-") as tmp:
        path = Path(tmp) / "cert.pub"
        path.write_text(certificate + "\n")
        text = run(["ssh-keygen", "-L", "-f", str(path)], timeout=30).stdout
    principals = re.search(r"Principals:\s*\n((?:\s{16,}\S+\n)*)", text)
    return {
        "type": "host" if "host certificate" in text else "user",
        "principals": principals.group(1).split() if principals else [],
        "signing_ca": (re.search(r"Signing CA: (.+)", text) or [None, None])[1],
        "text": text,
    }
