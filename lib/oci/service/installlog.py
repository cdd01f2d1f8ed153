"""An install's log on its node (``machine-install-log``), read over the certified SSH channel of
``oci.remote`` a bounded chunk at a time from a byte offset, so that a client follows it as it grows.

The installer writes ``oci.install.plan.LOG_PATH`` on the live node and copies it to the same path on the
installed system, so the same read serves during and after the install (``remote.node_of`` picks the node's
address and certificate authority by its status).
"""

from __future__ import annotations

from typing import Any

from oci import remote, values
from oci.errors import Conflict, InvalidInput
from oci.install.plan import LOG_PATH
from oci.model import Machine
from oci.service.machines import resolve
from oci.store import Store

LOG_CHUNK = 256 * 1024  # bytes per call: a reply stays small, a client asks again at once while there is more
MAX_OFFSET = 1 << 40
# One round trip: at most LOG_CHUNK bytes from the offset, as hex (od), so that bytes that are not UTF-8 cross
# intact; a log not written yet reads as empty. The values are the shell's positional parameters, never script.
_READ_SCRIPT = 'tail -c "+$1" -- "$2" 2>/dev/null | head -c "$3" | od -An -v -tx1'


def _offset(text: object) -> int:
    if text is None:
        return 0
    value = values.integer(text) if isinstance(text, str) else None
    if value is None or not 0 <= value <= MAX_OFFSET:
        raise InvalidInput(
            f"offset: {str(text)[:40]!r} is not a byte offset", hint="a whole number from 0, the offset a previous read returned"
        )
    return value


def whole_characters(data: bytes) -> bytes:
    """``data`` without a UTF-8 character cut at its end (the next read starts with it)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: the last character starts here
            length = 1 if byte < 0x80 or byte >= 0xF8 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4  # F8-FF start nothing
            return data[:-back] if length > back else data
    return data


def read(store: Store, ident: str, offset: str | None = None) -> dict[str, Any]:
    """At most LOG_CHUNK bytes of the install log from ``offset``: ``{serial, status, text, offset, more}``,
    where ``offset`` is where the next read starts and ``more`` says the log goes on beyond this chunk.
    ``status`` is read before the log: a machine no longer ``installing`` logged what it had to before it
    said so, so this read holds it."""
    start = _offset(offset)
    serial = resolve(store, ident)
    machine = store.get(Machine, serial)
    if machine.install is None:
        raise Conflict(f"machine {serial} has no install to show the log of", hint=f"machine-install-os {serial} starts one")
    node = remote.node_of(store, serial)
    argv = ["sh", "-c", _READ_SCRIPT, "oci-install-log", str(start + 1), LOG_PATH, str(LOG_CHUNK)]
    output = remote.run_on(store, node, argv, timeout=60)
    try:
        raw = bytes.fromhex(output)
    except ValueError:
        raise Conflict(f"reading the install log on {serial} gave something else than od's output: {output[:60]!r}") from None
    data = whole_characters(raw)
    return {
        "serial": serial,
        "status": machine.status.value,
        "text": data.decode("utf-8", errors="replace"),
        "offset": start + len(data),
        "more": len(raw) == LOG_CHUNK,  # the chunk was full: read again without waiting
    }
