"""``machine-gen-root-pass`` and ``machine-forget-root-pass`` (docs/lifecycle.md): a random root password for an
installed machine's console, for the day its network is gone.

The password is set on the node with ``chpasswd``, which reads it on its standard input over the master's
checked SSH channel (never in an argument, never in a log). The master keeps a copy readable by root alone
(``<state>/root-passwords/<serial>``, mode 0600) and the command shows it once, in its reply. Forgetting
removes the master's copy. A step that fails leaves the copy as it was."""

from __future__ import annotations

import secrets
from typing import Any

from oci import remote
from oci.errors import Conflict
from oci.model import Machine, MachineStatus
from oci.service.machines import resolve
from oci.store import Store

FOLDER = "root-passwords"
LENGTH = 16  # characters of URL-safe base64: 96 bits


def generate(store: Store, ident: str) -> dict[str, Any]:
    serial = resolve(store, ident)
    machine = store.get(Machine, serial)
    if machine.status is not MachineStatus.INSTALLED or machine.enrolment is None:
        raise Conflict(f"machine {serial} is {machine.status.value}: a root password is given to an installed machine")
    password = secrets.token_urlsafe(LENGTH)[:LENGTH]
    before = store.read_blob(FOLDER, serial)
    store.write_blob(FOLDER, serial, data=f"{password}\n".encode(), mode=0o600)  # kept first: never set and lost
    try:
        remote.run_on(store, remote.node_of(store, serial), ["chpasswd"], timeout=30, stdin=f"root:{password}\n".encode())
    except BaseException:
        if before is None:
            store.remove_blob(FOLDER, serial)
        else:
            store.write_blob(FOLDER, serial, data=before, mode=0o600)
        raise
    return {"serial": serial, "hostname": machine.enrolment.hostname, "password": password}


def forget(store: Store, ident: str) -> dict[str, Any]:
    serial = resolve(store, ident)
    return {"serial": serial, "forgotten": store.remove_blob(FOLDER, serial)}
