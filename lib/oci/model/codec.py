"""Strict conversion between frozen dataclasses and plain data (YAML/JSON documents).

``decode()`` rejects unknown keys, missing required keys and wrong types, naming the key path
(``hardware.disks[2].size_bytes``) so an error message points at the exact place in a file or a request.
``encode()`` is its inverse: ``decode(cls, encode(x)) == x`` for every model. Fields that are ``None`` are
left out of the document, so files stay short and readable.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import ipaddress
import types
import typing
from datetime import UTC, datetime
from typing import Any, TypeVar

from oci.errors import InvalidInput, OciError

T = TypeVar("T")


class DecodeError(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, bool], ...]:
    """(name, required) for each init field."""
    out = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        out.append((f.name, required))
    return tuple(out)


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        if issubclass(tp, enum.Enum):
            return "one of " + ", ".join(repr(m.value) for m in tp)
        return {
            str: "a string",
            int: "an integer",
            float: "a number",
            bool: "a boolean",
            ipaddress.IPv4Address: "an IPv4 address",
            ipaddress.IPv4Network: "an IPv4 network",
            datetime: "a timestamp",
        }.get(tp, "a mapping" if dataclasses.is_dataclass(tp) else tp.__name__)
    return str(tp)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _decode(tp: Any, value: object, path: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        if len(non_none) == 1:
            return _decode(non_none[0], value, path)
        for arg in non_none:  # scalar unions such as ``str | int | bool``: exact type match
            if type(value) is arg:
                return value
        if float in non_none and type(value) is int:
            return float(value)
        raise DecodeError(path, f"expected {' or '.join(_type_name(a) for a in non_none)}, got {_show(value)}")
    if origin is tuple:
        item_type = typing.get_args(tp)[0]
        if not isinstance(value, (list, tuple)):
            raise DecodeError(path, f"expected a list, got {_show(value)}")
        return tuple(_decode(item_type, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        key_type, item_type = typing.get_args(tp)
        if not isinstance(value, dict):
            raise DecodeError(path, f"expected a mapping, got {_show(value)}")
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise DecodeError(path, f"expected string keys, got {_show(k)}")
            out[_decode(key_type, k, path)] = _decode(item_type, v, _join(path, k))
        return out
    if value is None:
        raise DecodeError(path, f"expected {_type_name(tp)}, got nothing")
    if dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp, value, path)  # type: ignore[arg-type]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            raise DecodeError(path, f"expected {_type_name(tp)}, got {_show(value)}") from None
    if tp is bool:
        if type(value) is not bool:
            raise DecodeError(path, f"expected a boolean, got {_show(value)}")
        return value
    if tp is int:
        if type(value) is not int:
            raise DecodeError(path, f"expected an integer, got {_show(value)}")
        return value
    if tp is float:
        if type(value) not in (int, float):
            raise DecodeError(path, f"expected a number, got {_show(value)}")
        return float(value)  # type: ignore[arg-type]
    if tp is str:
        if type(value) is not str:
            raise DecodeError(path, f"expected a string, got {_show(value)}")
        return value
    if tp in (ipaddress.IPv4Address, ipaddress.IPv4Network):  # written as strings: "a.b.c.d", "a.b.c.d/n"
        try:
            if type(value) is not str:
                raise ValueError
            return tp(value)
        except ValueError:
            raise DecodeError(path, f"expected {_type_name(tp)}, got {_show(value)}") from None
    if tp is datetime:
        if isinstance(value, datetime):  # YAML reads unquoted timestamps as datetimes
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if type(value) is str:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise DecodeError(path, f"expected a timestamp, got {_show(value)}") from None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        raise DecodeError(path, f"expected a timestamp, got {_show(value)}")
    raise TypeError(f"codec cannot decode type {tp!r}")  # a programming error, not bad input


def _decode_dataclass(cls: type[T], value: object, path: str) -> T:
    if not isinstance(value, dict):
        raise DecodeError(path, f"expected a mapping, got {_show(value)}")
    hints = _hints(typing.cast(type, cls))
    fields = _fields(typing.cast(type, cls))
    known = {name for name, _ in fields}
    for key in value:
        if key not in known:
            raise DecodeError(_join(path, str(key)), "unknown key")
    kwargs = {}
    for name, required in fields:
        if name in value:
            kwargs[name] = _decode(hints[name], value[name], _join(path, name))
        elif required:
            raise DecodeError(_join(path, name), "missing")
    try:
        return cls(**kwargs)
    except (ValueError, OciError) as exc:  # __post_init__ checks that span several fields
        raise DecodeError(path, str(exc)) from None


def decode(cls: type[T], data: object, source: str, error: type[OciError] = InvalidInput) -> T:
    """Build ``cls`` from ``data`` or raise ``error`` naming ``source`` and the key."""
    try:
        return _decode_dataclass(cls, data, "")
    except DecodeError as exc:
        where = f"{source}: key '{exc.path}'" if exc.path else source
        raise error(f"{where}: {exc.message}") from None


@functools.cache
def _encoded_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def encode_value(value: Any) -> Any:
    # Hot path (every report): dispatch on the exact type first, dataclasses through a per-class cache.
    kind = type(value)
    if kind in (str, int, bool, float) or value is None:
        return value
    if hasattr(kind, "__dataclass_fields__"):
        out = {}
        for name in _encoded_fields(typing.cast(type, kind)):
            v = getattr(value, name)
            if v is not None:
                out[name] = encode_value(v)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {k: encode_value(v) for k, v in value.items()}
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv4Network)):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return value


def encode(obj: object) -> dict[str, Any]:
    out = encode_value(obj)
    assert isinstance(out, dict)
    return out
