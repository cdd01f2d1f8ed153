"""Write rendered files under a target root (a chroot being installed, or a test's folder).

Every path is checked before anything is written: relative, made of plain names (no ``..``, no hidden
names), and no existing symbolic link on the way may lead out of the target. Each file is written
atomically (temp file and rename), so a reader sees the old or the new file, never a mix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from oci.errors import InvalidInput
from oci.store.files import atomic_write, read_bytes

_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def check_relative(relative: str) -> tuple[str, ...]:
    """The parts of ``relative``, refused unless it is a plain relative path (no ``..``, no hidden names)."""
    parts = PurePosixPath(relative).parts
    if not parts or relative.startswith("/") or not all(_PART.fullmatch(p) for p in parts):
        raise InvalidInput(f"refusing to write {relative!r}: not a plain relative path")
    return parts


def target_path(target: Path, relative: str) -> Path:
    """``target``/``relative``, refused unless it stays inside ``target`` (symbolic links resolved)."""
    parts = check_relative(relative)
    root = target.resolve()
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root):
        raise InvalidInput(f"refusing to write {relative}: a symbolic link under {target} leads out of it")
    return path


def write_tree(target: Path, files: Mapping[str, str]) -> list[Path]:
    """Write ``files`` (relative path -> text) under ``target``; returns the paths written, in order."""
    return write_files(target, {relative: text.encode() for relative, text in files.items()})


def write_files(target: Path, files: Mapping[str, bytes], only_changed: bool = False, modes: Mapping[str, int] | None = None) -> list[Path]:
    """Write ``files`` (relative path -> content) under ``target``, every path checked before the first
    write; with ``only_changed``, a file that already holds its content is left alone (its time too).
    ``modes`` gives a file's mode (default 0644); a key gets its mode from the start, never readable by
    others on the way. Returns the paths written, in order."""
    if not target.is_dir():
        raise InvalidInput(f"target {target} is not a directory")
    paths = {relative: target_path(target, relative) for relative in sorted(files)}
    written = []
    for relative, path in paths.items():
        if only_changed and read_bytes(path) == files[relative]:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, files[relative], mode=(modes or {}).get(relative, 0o644))
        written.append(path)
    return written
