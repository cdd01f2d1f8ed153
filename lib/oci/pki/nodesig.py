"""Requests signed by a node with the host key OCI certified: proof of identity from any address.

The node signs, with ``ssh-keygen -Y sign`` and its private ed25519 host key (the live image has OpenSSH, not
the cryptography library), one line per fact of the request::

    oci-node-request-v1
    POST                       method
    /api/v1/report             path, with ?query when there is one
    1796212800                 X-OCI-Node-Time: Unix seconds
    3f1c...                    X-OCI-Node-Nonce: 16 to 64 hex digits, new for each request
    9b74...                    SHA-256 of the body, hex

and sends the signature (the SSHSIG blob, base64, in ``X-OCI-Node-Signature``) with the time and the nonce.
The master checks, in-process with cryptography: the signing key is the host key it certified for that
machine, the namespace is ours, the signature is good, the time is within MAX_SKEW of its clock, and the
nonce was not seen before (an in-memory cache, per oci-api process, for twice the skew window: a captured
request cannot be replayed from another address). The SSHSIG format: OpenSSH's PROTOCOL.sshsig.

The node side (oci.agent.signing) imports this module for ``message`` and the header names; cryptography,
which the live image does not carry, is imported only by ``verify``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
import threading
from dataclasses import dataclass, field
from datetime import datetime

NAMESPACE = "oci-node@openstack-cluster-installer"
MAX_SKEW = 300  # seconds between the node's clock and the master's
HEADERS = ("X-OCI-Node-Time", "X-OCI-Node-Nonce", "X-OCI-Node-Signature")
_NONCE = re.compile(r"[0-9a-f]{16,64}")
_MAX_SIGNATURE = 2048  # bytes of base64; an ed25519 SSHSIG is about 400


def message(method: str, target: str, when: int, nonce: str, body: bytes) -> bytes:
    """What the node signs (see the module's docstring)."""
    return f"oci-node-request-v1\n{method}\n{target}\n{when}\n{nonce}\n{hashlib.sha256(body).hexdigest()}\n".encode()


class NonceCache:
    """Nonces of accepted signatures, each kept until it could no longer pass the time check."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def first_use(self, nonce: str, when: int, now: int) -> bool:
        with self._lock:
            if len(self._seen) > 1000:
                self._seen = {n: t for n, t in self._seen.items() if t > now - 2 * MAX_SKEW}
            if nonce in self._seen:
                return False
            self._seen[nonce] = when
            return True


@dataclass(frozen=True)
class Proof:
    """A signed request, as received: checked only when the request does not come from an own address."""

    message: bytes
    when: int
    nonce: str
    signature: bytes  # the SSHSIG blob
    nonces: NonceCache = field(compare=False)


def proof_from_headers(headers: dict[str, str], method: str, target: str, body: bytes, nonces: NonceCache) -> Proof | None:
    """The proof a request carries, or None (no headers, or malformed ones: then it proves nothing)."""
    when_text, nonce, signature = (headers.get(h) for h in HEADERS)
    if not when_text or not nonce or not signature or len(signature) > _MAX_SIGNATURE:
        return None
    if not when_text.isascii() or not when_text.isdigit() or len(when_text) > 12 or not _NONCE.fullmatch(nonce):
        return None
    try:
        blob = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return None
    when = int(when_text)
    return Proof(message(method, target, when, nonce, body), when, nonce, blob, nonces)


def _strings(blob: bytes) -> list[bytes]:
    """An SSH wire-format sequence of length-prefixed strings."""
    out, offset = [], 0
    while offset < len(blob):
        if offset + 4 > len(blob):
            raise ValueError("truncated length")
        (length,) = struct.unpack(">I", blob[offset : offset + 4])
        offset += 4
        if offset + length > len(blob):
            raise ValueError("truncated string")
        out.append(blob[offset : offset + length])
        offset += length
    return out


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def armored_to_blob(armored: str) -> bytes:
    """The SSHSIG blob of ``ssh-keygen -Y sign``'s output."""
    lines = [line.strip() for line in armored.strip().splitlines()]
    if len(lines) < 3 or lines[0] != "-----BEGIN SSH SIGNATURE-----" or lines[-1] != "-----END SSH SIGNATURE-----":
        raise ValueError("not an SSH signature")
    return base64.b64decode("".join(lines[1:-1]), validate=True)


def verify(proof: Proof, host_key: str, now: datetime) -> bool:
    """Is ``proof`` a fresh signature of its request by ``host_key`` (an ``ssh-ed25519 AAAA...`` line)?"""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ed25519

    current = int(now.timestamp())
    if abs(current - proof.when) > MAX_SKEW:
        return False
    try:
        kind, key_text = host_key.split()[:2]
        key_blob = base64.b64decode(key_text, validate=True)
        blob = proof.signature
        if kind != "ssh-ed25519" or not blob.startswith(b"SSHSIG") or blob[6:10] != b"\0\0\0\1":
            return False
        signer, namespace, reserved, hash_name, signature = _strings(blob[10:])
        if signer != key_blob or namespace != NAMESPACE.encode() or hash_name not in (b"sha512", b"sha256"):
            return False
        key_type, raw_key = _strings(key_blob)
        sig_type, raw_signature = _strings(signature)
        if key_type != b"ssh-ed25519" or sig_type != b"ssh-ed25519":
            return False
        digest = hashlib.new(hash_name.decode(), proof.message).digest()
        signed = b"SSHSIG" + _string(namespace) + _string(reserved) + _string(hash_name) + _string(digest)
        ed25519.Ed25519PublicKey.from_public_bytes(raw_key).verify(raw_signature, signed)
    except (ValueError, InvalidSignature, binascii.Error):
        return False
    return proof.nonces.first_use(proof.nonce, proof.when, current)
