"""The operator's YAML files of rules (hardware profiles, racking rules): read and checked whole when they
change, kept parsed in between, so a command that consults them on every machine does not parse them again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from oci.errors import InvalidInput
from oci.store.files import load_yaml

T = TypeVar("T")
MAX_FILE = 1 << 20  # a file of rules: a guard against reading something else whole

_cache: dict[tuple[Path, Callable[..., Any]], tuple[tuple[int, int, int], Any]] = {}
_cache_lock = threading.Lock()


def load(path: Path, parse: Callable[[object, str], T], absent: T) -> T:
    """``parse(document, str(path))`` of the file, done again only when the file changed (inode, size,
    modification time); ``absent`` when it does not exist. InvalidInput, in one line naming the file, for a file
    that cannot be read, is not YAML, or that ``parse`` refuses."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return absent
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}") from None
    key = (info.st_ino, info.st_size, info.st_mtime_ns)
    with _cache_lock:
        cached = _cache.get((path, parse))
    if cached is not None and cached[0] == key:
        return cached[1]  # type: ignore[no-any-return]
    if info.st_size > MAX_FILE:
        raise InvalidInput(f"{path}: larger than {MAX_FILE >> 10} KiB: not a file of rules")
    try:
        document = load_yaml(path.read_bytes())
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise InvalidInput(f"{path}:{where}: {problem}") from None
    parsed = parse(document, str(path))
    with _cache_lock:
        _cache[(path, parse)] = (key, parsed)
    return parsed
