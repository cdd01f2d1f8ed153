"""Dry runs: what an operation would change in the hosts' classifications, without changing anything.

The state directory is copied with hard links into a scratch folder beside it (every write of the store
replaces a file by renaming a new one over it, so the copy never changes the original), the operation runs
on the copy, and the two sets of ENC files are compared. Secrets are masked in the diff.

The operation runs through the executor it is given (``operations.execute``, which lists the dry run in its
table: importing it here would make a loop), so the copy's ENC follows the change exactly as the real one would.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from oci.errors import InvalidInput
from oci.masking import masked_yaml
from oci.store import Store, files

# Operations worth a dry run: those that change classifications.
ALLOWED = ("machine_add", "machine_remove", "machine_set", "cluster_set", "network_add", "network_remove", "network_set")
_NOT_COPIED = ("audit.log",)  # appended in place, so a hard link would let the dry run write to it


class Executor(Protocol):
    """``operations.execute``."""

    def __call__(self, store: Store, name: str, params: Mapping[str, Any], actor: str | None = None) -> Any: ...


def _snapshot(root: Path) -> Path:
    # The pid in the name tells oci-api's start-up clean-up whether a crashed dry run left it (store/files.py).
    scratch = Path(tempfile.mkdtemp(prefix=f"{files.SCRATCH_PREFIX}{os.getpid()}-", dir=root))
    for folder, dirs, filenames in os.walk(root):
        here = Path(folder)
        if here == scratch:
            dirs[:] = []
            continue
        # Locks are not state, and the indexes are derived: the copy builds its own if it needs them.
        dirs[:] = [d for d in dirs if not d.startswith(files.SCRATCH_PREFIX) and d not in ("locks", "index")]
        target = scratch / here.relative_to(root)
        target.mkdir(exist_ok=True)
        for name in filenames:
            if name not in _NOT_COPIED and not name.startswith("."):
                os.link(here / name, target / name)
    return scratch


def _enc_files(root: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in (root / "enc").glob("cluster-*/*.yaml")}


def dry_run(store: Store, operation: str, params: Mapping[str, Any], execute: Executor, actor: str | None = None) -> dict[str, Any]:
    if operation not in ALLOWED:
        raise InvalidInput(f"no dry run for {operation}", hint="one of " + ", ".join(ALLOWED))
    with store.topology_lock():  # the copy is taken while nobody changes the state
        scratch = _snapshot(store.root)
    try:
        before = _enc_files(store.root)
        result = execute(Store(scratch, lock_timeout=store.lock_timeout, config=store.config), operation, params, actor=actor)
        after = _enc_files(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    changes = {}
    for host in sorted(set(before) | set(after)):
        old, new = masked_yaml(before.get(host, "")), masked_yaml(after.get(host, ""))
        if old != new:
            lines = difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"{host} (now)", f"{host} (after)", n=1)
            changes[host] = "".join(lines)
    return {"operation": operation, "result": result, "changes": changes}
