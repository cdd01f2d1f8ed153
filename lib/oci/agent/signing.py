"""Requests signed with this node's host key, once the master has certified it (oci.pki.nodesig).

A signed request proves which machine sends it from whatever address it comes: after a renumbering, the
master accepts the node's reports and statuses because they are signed with the key it certified, where a
request from an unknown address would be refused as a conflict (docs/security.md, "Node trust"). The
signature is made by ``ssh-keygen -Y sign``: the private key never leaves the node, and the live image
needs nothing beyond OpenSSH.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from oci.pki import nodesig
from oci.run import run

Signer = Callable[[str, str, bytes], dict[str, str]]  # (method, url, body) -> headers


def certified(key: Path) -> bool:
    """Has the master certified ``key``? Only then does it know the key, and a signature means something."""
    return key.with_name(key.name + "-cert.pub").is_file()


def signer(key: Path, clock: Callable[[], float] = time.time) -> Signer:
    def sign(method: str, url: str, body: bytes) -> dict[str, str]:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        when, nonce = int(clock()), secrets.token_hex(16)
        text = nodesig.message(method, target, when, nonce, body).decode()
        armored = run(["ssh-keygen", "-q", "-Y", "sign", "-n", nodesig.NAMESPACE, "-f", str(key)], timeout=30, input_text=text).stdout
        signature = base64.b64encode(nodesig.armored_to_blob(armored)).decode()
        return dict(zip(nodesig.HEADERS, (str(when), nonce, signature), strict=True))

    return sign
