"""Atomic file writes and YAML (de)serialisation: the only code that writes state bytes to disk."""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """Safe dumper that never writes anchors/aliases: every file reads on its own."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(data: Any) -> str:
    """Block-style YAML with sorted keys, for JSON-like data (dicts with string keys, lists, scalars).

    A small emitter of our own: PyYAML's representer costs ~0.5 ms for one machine file, which is most of
    the CPU time of a report. Strings are written plain only when that cannot read back as anything else
    (a letter first, then letters, digits, ``._/-``, and not a YAML 1.1 boolean or null word); every other
    string is written JSON-quoted, which is valid YAML. tests/unit/test_files.py checks that
    ``load_yaml(dump_yaml(x)) == x`` on generated data.
    """
    if not isinstance(data, (dict, list)) or not data:
        return yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True)
    lines: list[str] = []
    _emit(data, 0, lines)
    return "\n".join(lines) + "\n"


_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*")
_NOT_PLAIN = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"})


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        if not math.isfinite(value):
            raise ValueError(f"cannot store {value!r}")
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        # YAML 1.1 (PyYAML) reads "1e-05" as a string: its floats need a dot in the mantissa.
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text
    if type(value) is str:
        if _PLAIN.fullmatch(value) and value.lower() not in _NOT_PLAIN:
            return value
        if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
            return f'"{value}"'  # what json.dumps would write, without its cost (addresses, host lists)
        if value.isprintable():
            return json.dumps(value, ensure_ascii=False)
        # Control or unassigned characters: PyYAML's own double-quoted escapes (rare, so its cost is fine).
        return str(yaml.dump(value, Dumper=_Dumper, default_style='"', width=1_000_000, allow_unicode=False)).rstrip("\n")
    raise TypeError(f"cannot store a {type(value).__name__} in a state file")


def _key(key: Any) -> str:
    if type(key) is not str:
        raise TypeError(f"state file keys are strings, not {type(key).__name__}")
    return _scalar(key)


def _emit(value: Any, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if type(value) is dict:
        for key in sorted(value):
            item = value[key]
            if type(item) in (dict, list) and item:
                lines.append(f"{pad}{_key(key)}:")
                _emit(item, indent + 2 if type(item) is dict else indent, lines)
            else:
                lines.append(f"{pad}{_key(key)}: {_inline(item)}")
    else:
        for item in value:
            if type(item) in (dict, list) and item:
                start = len(lines)
                _emit(item, indent + 2, lines)
                lines[start] = f"{pad}- {lines[start][indent + 2 :]}"
            else:
                lines.append(f"{pad}- {_inline(item)}")


def _inline(value: Any) -> str:
    if type(value) is dict:
        return "{}"
    if type(value) is list:
        return "[]"
    return _scalar(value)


def load_yaml(text: str | bytes) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (_Loader is the C or Python *safe* loader)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Temporary files: ".<target name>.<writer's pid>.<8 random characters>.tmp", beside their target. The pid
# lets a later process tell a temp file a crashed writer left from one a live writer is filling.
TEMP_SUFFIX = ".tmp"
SCRATCH_PREFIX = ".dry-run-"  # dry runs' scratch copies of the state (service/dryrun.py): ".dry-run-<pid>-<random>"
_TEMP_NAME = re.compile(r"\..+\.(?P<pid>[0-9]{1,10})\.[a-z0-9_]{8}\.tmp")
_SCRATCH_NAME = re.compile(r"\.dry-run-(?P<pid>[0-9]{1,10})-[a-z0-9_]{8}")
STALE_TEMP_AGE = 3600.0  # seconds; a live writer holds its temp file for milliseconds


def temp_prefix(name: str) -> str:
    return f".{name}.{os.getpid()}."


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only the existence is checked
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except (OverflowError, ValueError):
        return False
    return True


def _stale(path: Path, match: re.Match[str] | None, now: float, max_age: float) -> bool:
    """A temp file (or scratch folder) no live writer can still own: its writer's pid is gone, or it is
    older than ``max_age`` (a name without a pid, from an older release; or a pid reused since)."""
    if match is not None and not _process_exists(int(match["pid"])):
        return True
    try:
        return now - path.lstat().st_mtime > max_age
    except FileNotFoundError:  # its writer renamed or removed it meanwhile
        return False


def remove_stale_temp_files(root: Path, max_age: float = STALE_TEMP_AGE, now: float | None = None) -> list[Path]:
    """Remove the temp files and dry-run scratch folders that crashed processes left under ``root``.

    Safe while other processes write: a live writer's files carry its pid and are seconds old, so they are
    kept; a file renamed away meanwhile is simply not there any more. Returns what was removed.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    for folder, dirs, filenames in os.walk(root):
        here = Path(folder)
        for name in [d for d in dirs if d.startswith(SCRATCH_PREFIX)]:
            dirs.remove(name)  # never walked: a live dry run's copy is its own business
            path = here / name
            if _stale(path, _SCRATCH_NAME.fullmatch(name), now, max_age):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        for name in filenames:
            if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
                continue
            path = here / name
            if _stale(path, _TEMP_NAME.fullmatch(name), now, max_age):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    removed.append(path)
    return removed


def atomic_symlink(path: Path, target: str) -> None:
    """Point the symbolic link ``path`` at ``target``, replacing what is there: readers see the old link or the
    new one. No fsync: for derived data that its writers repair (the store's indexes), a link costs one
    system call where a file costs a write and an fsync."""
    tmp = path.with_name(f"{temp_prefix(path.name)}{secrets.token_hex(4)}{TEMP_SUFFIX}")
    try:
        os.symlink(target, tmp)
    except FileNotFoundError:  # the first link of its folder
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, tmp)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(path: Path, data: bytes, mode: int = 0o644, durable: bool = True, synced: bool = True) -> tuple[int, int, int]:
    """Write ``data`` to ``path`` so that readers see the old or the new content, never a mix.

    Temp file in the same folder, fsync, rename over the target, fsync of the folder: after a crash at any
    point the file is either entirely old or entirely new. ``durable=False`` skips the folder's fsync: the
    file is still never partial, but after a power loss it may be its previous version (used for
    heartbeats, which the next report rewrites anyway). ``synced=False`` skips every fsync: for derived data
    whose reader checks it against its source (the listing's views). Plain ``os`` calls on the descriptor:
    this runs for every report, and Python file objects add several system calls per write. Returns the new
    file's (inode, mtime in ns, size), the stamp a reader's cache keys it by.
    """
    folder = path.parent
    prefix = temp_prefix(path.name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=folder)
    except FileNotFoundError:  # the first object of its kind
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=folder)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            # The file system stamps mtime from a coarse clock (a few ms); a fine one makes (inode, mtime,
            # size) tell two versions apart, which the listing cache relies on (store.machine_views).
            now = time.time_ns()
            os.utime(fd, ns=(now, now))
            st = os.fstat(fd)
            if synced:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable and synced:
        fsync_dir(folder)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def remove(path: Path) -> bool:
    """Delete ``path`` durably; False if it was not there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True


def read_bytes(path: Path | str) -> bytes | None:
    """The file's content, or None if it does not exist."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
