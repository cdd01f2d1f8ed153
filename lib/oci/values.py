"""Validation of scalar values that come from outside (reports, request bodies, command lines).

Python's own conversions are too lenient for data that ends in files, configuration and commands:
``str.isdigit()`` is true for "²", which ``int()`` then refuses; ``int()`` and ``float()`` accept any
Unicode digits ("٣", "１２"), underscores and surrounding spaces; ``float()`` accepts "nan", "inf" and
"1e999"; JSON's ``\\ud800`` escape makes a string that cannot be encoded to UTF-8, so it breaks whatever
writes it later. The rules here are the one place that says what an integer, a number and a string are.
"""

from __future__ import annotations

import math
import re
from typing import Any

from oci.errors import InvalidInput

MAX_DIGITS = 19  # a signed 64-bit integer; beyond that a "count" or a "size" is not one
_INTEGER = re.compile(r"-?[0-9]{1,19}")
_NUMBER = re.compile(r"-?(?:[0-9]{1,19}(?:\.[0-9]{0,19})?|\.[0-9]{1,19})(?:[eE][-+]?[0-9]{1,3})?")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def integer(text: str) -> int | None:
    """ASCII decimal digits with an optional minus sign, as an int; None for anything else."""
    return int(text) if _INTEGER.fullmatch(text) else None


def number(text: str) -> float | None:
    """An ASCII decimal number (``12``, ``1.5``, ``2e3``), finite; None for anything else."""
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None  # "1e999" matches the syntax and is infinite


def finite(value: int | float) -> float | None:
    """A JSON or Python number as a finite float; None for NaN, infinities and integers too large."""
    try:
        result = float(value)
    except OverflowError:  # an int beyond the float range
        return None
    return result if math.isfinite(result) else None


def has_surrogate(text: str) -> bool:
    """A lone surrogate (from a JSON ``\\udXXX`` escape, or undecodable bytes in argv): not text at all."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def check_data(value: object, where: str) -> None:
    """Refuse, in one line, data that no JSON writer can represent: non-finite numbers and strings (or
    keys) holding lone surrogates. Iterative, so a deeply nested document cannot exhaust the stack."""
    pending = [value]
    while pending:
        item = pending.pop()
        if type(item) is float:
            if not math.isfinite(item):
                raise InvalidInput(f"{where}: {item!r} is not a finite number")
        elif type(item) is str:
            if has_surrogate(item):
                raise InvalidInput(f"{where}: a string holds an unpaired surrogate ({_show(item)}): it is not valid Unicode")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, (list, tuple)):
            pending.extend(item)


def _show(text: str) -> str:
    shown = ascii(text)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def mapping(value: object, where: str, allowed: set[str]) -> dict[str, Any]:
    """``value`` as a mapping of known keys (an operator's file of rules); InvalidInput naming ``where`` otherwise."""
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: must be a mapping")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise InvalidInput(f"{where}: unknown key {unknown[0]!r}", hint="known: " + ", ".join(sorted(allowed)))
    return value
