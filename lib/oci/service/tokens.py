"""API tokens: created on the master, shown once, kept only as a SHA-256 digest.

A token is 43 random URL-safe characters after ``oci-`` (256 bits), so a fast digest is enough: there is
nothing to guess, and the digest only keeps a stolen copy of the state directory from being a key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Any

from oci import names
from oci.errors import Conflict, Unauthorized
from oci.model import Token
from oci.store import Store

PREFIX = "oci-"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(store: Store, name: str, now: datetime) -> str:
    names.object_name(name, "token name")
    token = PREFIX + secrets.token_urlsafe(32)
    with store.topology_lock():
        if store.find(Token, name) is not None:
            raise Conflict(f"token '{name}' already exists", hint=f"revoke it first: oci-token revoke {name}")
        tx = store.transaction()
        tx.put(Token(name, digest(token), now))
        tx.commit()
    return token


def create_named(store: Store, name: str, now: datetime) -> dict[str, str]:
    """``create`` as an operation's result: the name and the token (shown once; the audit log keeps only
    the operation's parameters)."""
    return {"name": name, "token": create(store, name, now)}


def list_(store: Store) -> list[dict[str, Any]]:
    return [{"name": t.name, "created": t.created.isoformat(timespec="seconds").replace("+00:00", "Z")} for t in store.all(Token)]


def revoke(store: Store, name: str) -> dict[str, Any]:
    names.object_name(name, "token name")
    with store.topology_lock():
        store.get(Token, name)
        tx = store.transaction()
        tx.delete(Token, name)
        tx.commit()
    return {"name": name}


def authenticate(store: Store, header: str | None) -> str:
    """The name of the token in an ``Authorization: Bearer`` header; ``Unauthorized`` otherwise."""
    hint = "send 'Authorization: Bearer <token>'; create tokens with oci-token on the master"
    if not header:
        raise Unauthorized("authentication required", hint=hint)
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized("authentication required: bearer token expected", hint=hint)
    wanted = digest(presented.strip())
    for token in store.all(Token):
        if hmac.compare_digest(token.digest, wanted):
            return token.name
    raise Unauthorized("invalid or revoked token")
