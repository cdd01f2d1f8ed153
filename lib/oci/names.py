"""Validation of every name that reaches a path, a hostname or a URL.

Each validator returns the name unchanged or raises :class:`InvalidName` with a one-line message. Names are
validated before any path is built from them, so nothing can be written outside the state directory: no
separator, no NUL, no leading dot, bounded length.
"""

from __future__ import annotations

import re

from oci.errors import InvalidName

# A chassis serial as vendors print them: letters, digits, dot, dash, underscore. Spaces are refused: a
# serial with spaces ("To Be Filled By O.E.M.") is a placeholder, not an identity.
_SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Object names (networks, locations, swift regions): lowercase, as in the reference.
_OBJECT = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
# Cluster and role names become DNS labels in hostnames (<cluster>-<role>-<N>.<domain>).
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_FQDN_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_IFACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,14}")


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "...'"


def _check(kind: str, value: object, pattern: re.Pattern[str], rule: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidName(f"invalid {kind} {_describe(value)}: it must be a non-empty string", hint=rule)
    if not pattern.fullmatch(value):
        raise InvalidName(f"invalid {kind} {_describe(value)}", hint=rule)
    return value


def serial(value: object) -> str:
    return _check("serial", value, _SERIAL, "a serial is 1-64 letters, digits, '.', '-' or '_', not starting with '.' or '-'")


def object_name(value: object, kind: str = "name") -> str:
    return _check(kind, value, _OBJECT, f"a {kind} is 1-63 lowercase letters, digits, '.', '-' or '_', starting with a letter or digit")


def network(value: object) -> str:
    return object_name(value, "network name")


def location(value: object) -> str:
    return object_name(value, "location name")


def swift_region(value: object) -> str:
    return object_name(value, "swift region name")


def cluster(value: object) -> str:
    return _check("cluster name", value, _LABEL, "a cluster name is a DNS label: 1-63 lowercase letters, digits or '-', not at either end")


def role(value: object) -> str:
    return _check("role name", value, _LABEL, "a role name is a DNS label: 1-63 lowercase letters, digits or '-', not at either end")


def fqdn(value: object, kind: str = "domain") -> str:
    rule = f"a {kind} is dot-separated DNS labels (lowercase letters, digits, '-'), at most 253 characters"
    if not isinstance(value, str) or not value:
        raise InvalidName(f"invalid {kind} {_describe(value)}: it must be a non-empty string", hint=rule)
    if len(value) > 253 or not all(_FQDN_LABEL.fullmatch(label) for label in value.split(".")):
        raise InvalidName(f"invalid {kind} {_describe(value)}", hint=rule)
    return value


def hostname(value: object) -> str:
    name = fqdn(value, "hostname")
    if "." not in name:
        raise InvalidName(f"invalid hostname {_describe(value)}: it must be fully qualified (host.domain)")
    return name


def interface(value: object) -> str:
    return _check("interface name", value, _IFACE, "an interface name is 1-15 letters, digits, '.', '-' or '_'")
