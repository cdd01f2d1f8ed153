"""What a command prints: tables for people, JSON for scripts (``--json``: sorted keys, stable names)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass(frozen=True)
class Column:
    key: str
    header: str


@dataclass(frozen=True)
class Table:
    rows: list[dict[str, Any]]
    columns: Sequence[Column]
    exit_code: int = 0


@dataclass(frozen=True)
class Record:
    """One object: ``key: value`` lines for people, the object itself in JSON."""

    data: dict[str, Any]
    order: Sequence[str] = ()  # keys to show first
    exit_code: int = 0


@dataclass(frozen=True)
class Message:
    text: str
    data: Any = field(default=None)  # what --json prints; the text when None
    exit_code: int = 0


def cell(value: Any) -> str:
    if value is None or value in ("", []):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(cell(v) for v in value)
    if isinstance(value, dict):
        if set(value) == {"network", "address"}:
            return f"{value['address']}@{value['network']}"
        return " ".join(f"{k}={cell(v)}" for k, v in value.items())
    return str(value)


def render_table(table: Table) -> str:
    headers = [c.header for c in table.columns]
    body = [[cell(row.get(c.key)) for c in table.columns] for row in table.rows]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)).rstrip() for r in body]
    return "\n".join(lines) + "\n"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "(current)"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def render_record(record: Record) -> str:
    keys = [k for k in record.order if k in record.data] + sorted(k for k in record.data if k not in record.order)
    lines = []
    width = max((len(k) for k in keys), default=0)
    for key in keys:
        value = record.data[key]
        if isinstance(value, dict) and value and key not in ("enrolment",):
            lines.append(f"{key}:")
            inner = max(len(str(k)) for k in value)
            lines += [f"  {str(k).ljust(inner)}  {cell(v)}" for k, v in value.items()]
        elif key == "history" and value:
            lines.append(f"{key}:")
            lines += [f"  {h['since']}  {h['status']:<15} {_duration(h['seconds'])}" for h in value]
        elif isinstance(value, list) and value and isinstance(value[0], dict) and set(value[0]) != {"network", "address"}:
            lines.append(f"{key}:")
            lines += [f"  - {cell(v)}" for v in value]
        elif isinstance(value, list) and value and isinstance(value[0], str) and key in ("problems", "report_notes"):
            lines.append(f"{key}:")
            lines += [f"  - {v}" for v in value]
        else:
            lines.append(f"{key.ljust(width)}  {cell(value)}")
    return "\n".join(lines) + "\n"


def emit(result: Table | Record | Message | None, as_json: bool, out: TextIO | None = None) -> None:
    if result is None:
        return
    out = out or sys.stdout
    if as_json:
        if isinstance(result, Table):
            data: Any = result.rows
        elif isinstance(result, Record):
            data = result.data
        else:
            data = result.data if result.data is not None else {"message": result.text}
        # Pretty on a terminal; compact (and several times faster to write) in a pipe.
        indent = 2 if out.isatty() else None
        out.write(json.dumps(data, sort_keys=True, indent=indent) + "\n")
        return
    if isinstance(result, Table):
        out.write(render_table(result))
    elif isinstance(result, Record):
        out.write(render_record(result))
    else:
        out.write(result.text + "\n")
