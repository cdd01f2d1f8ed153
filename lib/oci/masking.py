"""The one secret masker: which values are never shown (in the audit log, ``enc-show``, a dry run's diff),
and what is shown instead.

One rule, by the value's name:

* ``pass_*`` (a cluster's passwords and keys in an ENC document) → ``<secret>``;
* ``ssl_*`` and ``ssh_user_ca`` (certificates and private keys, long and partly secret) → ``<key material>``
  unless empty (``oci-pki show`` shows certificates);
* any other name containing ``pass``, ``secret``, ``token`` or ``key`` (an operation's ``password``, a
  BMC's, an API token) → ``***``.

A whole value is replaced, whatever it holds: a secret never leaks through a nested part of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

SECRET_SHOWN_AS = "<secret>"  # noqa: S105 (a placeholder, not a password)
KEY_MATERIAL_SHOWN_AS = "<key material>"
OTHER_SECRET_SHOWN_AS = "***"  # noqa: S105 (a placeholder, not a password)
_SECRET_WORDS = ("pass", "secret", "token", "key")
# A YAML mapping line as the ENC documents are written (``  name: value``): the name, then the value's text.
_YAML_LINE = re.compile(r"^(\s*([A-Za-z0-9_]+): )(.*)$", re.MULTILINE)


def placeholder(name: str, value: object) -> str | None:
    """What is shown instead of the value named ``name``; None when the value may be shown."""
    if name.startswith("pass_"):
        return SECRET_SHOWN_AS
    if name.startswith(("ssl_", "api_ssl_")) or name == "ssh_user_ca":
        return None if value is None or value == "" else KEY_MATERIAL_SHOWN_AS
    if any(word in name.lower() for word in _SECRET_WORDS):
        return OTHER_SECRET_SHOWN_AS
    return None


def _same(value: Any) -> Any:
    return value


def masked(mapping: Mapping[Any, Any], leaf: Callable[[Any], Any] = _same) -> dict[str, Any]:
    """``mapping`` with every secret replaced, at any depth; ``leaf`` converts the values that are kept
    (e.g. to what strict JSON holds). Keys become strings, as JSON and YAML documents have them."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = key if type(key) is str else repr(key)
        hidden = placeholder(name, value)
        out[name] = hidden if hidden is not None else _walk(value, leaf)
    return out


def _walk(value: Any, leaf: Callable[[Any], Any]) -> Any:
    if isinstance(value, Mapping):
        return masked(value, leaf)
    if isinstance(value, (list, tuple)):
        return [_walk(item, leaf) for item in value]
    return leaf(value)


def masked_yaml(text: str) -> str:
    """A YAML document's text with the same rule applied line by line (``name: value`` lines), for a diff
    that must show where a secret changed without showing it."""

    def replace(match: re.Match[str]) -> str:
        value_text = match.group(3).strip()
        hidden = placeholder(match.group(2), None if value_text in ("", "null", "''", '""') else value_text)
        return match.group(1) + hidden if hidden is not None else match.group(0)

    return _YAML_LINE.sub(replace, text)
