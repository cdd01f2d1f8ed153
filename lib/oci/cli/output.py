"""What a command prints: tables for people, JSON for scripts (``--json``: sorted keys, stable names), CSV for
scripts written for OCI 42's ``ocicli -csv`` (the table's headers, one row per line)."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Sequence
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


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def terminal_safe(text: str, keep: str = "") -> str:
    """``text`` with every character a terminal would act on, or that hides or reorders what is shown,
    written as an escape (``\\x9b``, ``\\u2028``): C0 and C1 controls (U+009B is an 8-bit CSI that many
    terminals obey like ESC [), line and paragraph separators, bidirectional and zero-width format
    characters, unpaired surrogates. A machine's report or a hand-edited state file must not be able to
    move the cursor, rewrite lines or change colours in the operator's terminal. ``keep``: characters
    the caller's layout needs (newline and tab in a multi-line message)."""
    if text.isprintable():  # the common case, in C
        return text
    return "".join(c if c.isprintable() or c in keep else _escaped(c) for c in text)


def _plain(text: str, keep: str = "") -> str:
    return text


def cell(value: Any, safe: Callable[[str], str] = _plain) -> str:
    if value is None or value in ("", []):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(cell(v, safe) for v in value)
    if isinstance(value, dict):
        if set(value) == {"network", "address"}:
            return safe(f"{value['address']}@{value['network']}")
        return " ".join(f"{safe(str(k))}={cell(v, safe)}" for k, v in value.items())
    return safe(str(value))


def render_table(table: Table, terminal: bool = False) -> str:
    """``terminal``: the output is a terminal, so data is shown through ``terminal_safe``."""
    safe = terminal_safe if terminal else _plain
    headers = [c.header for c in table.columns]
    body = [[cell(row.get(c.key), safe) for c in table.columns] for row in table.rows]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)).rstrip() for r in body]
    return "\n".join(lines) + "\n"


def render_csv(result: Table | Record, terminal: bool = False) -> str:
    """A table as CSV: its headers, then its rows, the cells as in the table but empty where the table shows ``-``
    (as OCI 42's ``-csv``). A record as ``key,value`` rows. Quoted only where a value needs it."""
    safe = terminal_safe if terminal else _plain
    if isinstance(result, Record):
        headers, rows = ["key", "value"], [[safe(str(k)), _csv_cell(v, safe)] for k, v in result.data.items()]
    else:
        headers = [c.header for c in result.columns]
        rows = [[_csv_cell(row.get(c.key), safe) for c in result.columns] for row in result.rows]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return text.getvalue()


def _csv_cell(value: Any, safe: Callable[[str], str]) -> str:
    return "" if value is None or value in ("", []) else cell(value, safe)


def duration(seconds: float) -> str:
    """``4m05s``; a float under a minute with hundredths (an install step's duration as the node measured it)."""
    if isinstance(seconds, float) and seconds < 60:
        return f"{seconds:.2f}s"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def _duration(seconds: int | None) -> str:
    return "(current)" if seconds is None else duration(seconds)


def _install_lines(install: dict[str, Any], safe: Callable[[str], str]) -> list[str]:
    """``machine-show``'s install: how it ended (or the step it is in), then each step with its duration."""
    total = duration(install["seconds"])
    if install["state"] == "failed":
        where = f" at {safe(str(install['failed_step']))}" if install["failed_step"] else ""
        outcome = f"failed{where} after {total}: {safe(str(install['error']))}"
    elif install["state"] == "running":
        outcome = f"running for {total}" + (f", in {safe(str(install['step']))}" if install["step"] else "")
    else:
        outcome = f"done in {total}"
    lines = [f"  started  {safe(str(install['started']))}, {outcome}"]
    shown = {"done": None, "running": "(running)", "failed": "failed", "unfinished": "(no end reported)"}
    width = max((len(safe(str(step["name"]))) for step in install["steps"]), default=0)
    for step in install["steps"]:
        text = shown.get(step["state"]) or duration(step["seconds"])
        lines.append(f"  {safe(str(step['name'])).ljust(width)}  {text}")
    return lines


def _puppet_run_lines(run: dict[str, Any], safe: Callable[[str], str]) -> list[str]:
    """``machine-show``'s last Puppet run: when, its result and how long it took, what it changed, and why it
    failed (the first error line, the failed resources)."""
    counts = f"{run['changed']} changed, {run['failed']} failed"
    lines = [f"  at {safe(str(run['at']))}: {safe(str(run['result']))} in {duration(float(run['seconds']))}, {counts}"]
    if run.get("error"):
        lines.append(f"  error: {safe(str(run['error']))}")
    lines += [f"  failed: {safe(str(name))}" for name in run.get("failed_resources") or ()]
    hidden = run["failed"] - len(run.get("failed_resources") or ())
    if hidden > 0:
        lines.append(f"  failed: ... and {hidden} more")
    return lines


def render_record(record: Record, terminal: bool = False) -> str:
    safe = terminal_safe if terminal else _plain
    keys = [k for k in record.order if k in record.data] + sorted(k for k in record.data if k not in record.order)
    lines = []
    width = max((len(safe(k)) for k in keys), default=0)
    for key in keys:
        value = record.data[key]
        shown = safe(key)
        if key == "install" and value:
            lines.append(f"{shown}:")
            lines += _install_lines(value, safe)
        elif key == "puppet_run" and value:
            lines.append(f"{shown}:")
            lines += _puppet_run_lines(value, safe)
        elif isinstance(value, dict) and value and key not in ("enrolment",):
            lines.append(f"{shown}:")
            inner = max(len(safe(str(k))) for k in value)
            lines += [f"  {safe(str(k)).ljust(inner)}  {cell(v, safe)}" for k, v in value.items()]
        elif key == "history" and value:
            lines.append(f"{shown}:")
            for h in value:
                detail = f"  {safe(str(h['detail']))}" if h.get("detail") else ""
                lines.append(f"  {safe(str(h['since']))}  {safe(str(h['status'])):<15} {_duration(h['seconds'])}{detail}")
        elif isinstance(value, list) and value and isinstance(value[0], dict) and set(value[0]) != {"network", "address"}:
            lines.append(f"{shown}:")
            lines += [f"  - {cell(v, safe)}" for v in value]
        elif isinstance(value, list) and value and isinstance(value[0], str) and key in ("problems", "report_notes"):
            lines.append(f"{shown}:")
            lines += [f"  - {safe(v)}" for v in value]
        else:
            lines.append(f"{shown.ljust(width)}  {cell(value, safe)}")
    return "\n".join(lines) + "\n"


def emit(result: Table | Record | Message | None, as_json: bool, out: TextIO | None = None, as_csv: bool = False) -> None:
    if result is None:
        return
    out = out or sys.stdout
    if as_csv and isinstance(result, Table | Record):
        out.write(render_csv(result, out.isatty()))
        return
    if as_json:
        if isinstance(result, Table):
            data: Any = result.rows
        elif isinstance(result, Record):
            data = result.data
        else:
            data = result.data if result.data is not None else {"message": result.text}
        # Pretty on a terminal; compact (and several times faster to write) in a pipe. ensure_ascii (the
        # default) writes every non-ASCII character and every control character as a \\u escape, so JSON
        # needs no terminal_safe.
        indent = 2 if out.isatty() else None
        out.write(json.dumps(data, sort_keys=True, indent=indent, ensure_ascii=True) + "\n")
        return
    terminal = out.isatty()  # a pipe gets the data as it is: scripts read it, no terminal interprets it
    if isinstance(result, Table):
        out.write(render_table(result, terminal))
    elif isinstance(result, Record):
        out.write(render_record(result, terminal))
    else:
        out.write((terminal_safe(result.text, keep="\n\t") if terminal else result.text) + "\n")
