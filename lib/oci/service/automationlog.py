"""What the automation did to each machine (docs/automation.md): ``<state>/automation/<serial>.json``, the last
events with their reasons, which ``machine-show`` shows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from oci.store import Store

FOLDER = "automation"
KEPT = 20  # a machine's last events


def record(store: Store, serial: str, step: str, outcome: str, why: str) -> None:
    """Keep what the automation did to the machine, with the reason (the last ``KEPT`` events)."""
    with store.machine_lock([serial]):
        events = history(store, serial)
        events.append({"at": datetime.now(UTC).isoformat(timespec="seconds"), "step": step, "outcome": outcome, "why": why})
        store.write_blob(FOLDER, f"{serial}.json", data=json.dumps(events[-KEPT:], sort_keys=True).encode() + b"\n")


def history(store: Store, serial: str) -> list[dict[str, Any]]:
    raw = store.read_blob(FOLDER, f"{serial}.json")
    if raw is None:
        return []
    try:
        events = json.loads(raw)
    except ValueError:
        return []  # a damaged record is not worth refusing a report or a listing for: it starts again
    return events if isinstance(events, list) else []


def forget(store: Store, serial: str) -> None:
    store.remove_blob(FOLDER, f"{serial}.json")
