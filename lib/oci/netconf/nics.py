"""Interface names of a network (``iface1``/``iface2``) resolved against the NICs a machine reported.

The keywords of OCI 42 (reference §1.11) are kept: ``10m<N>``, ``100m<N>``, ``1g<N>`` and ``10g<N>`` are the
N-th NIC, in name order, whose reported speed is 10, 100 or 1000 Mb/s, or at least 10000 Mb/s. Any other
name must be the name of a reported NIC. OCI 42 silently dropped names other than eth0..eth5 (its defect
9); here a name that matches nothing is an error that lists the NICs there are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from oci.errors import InvalidInput
from oci.model.hardware import Nic
from oci.naming import natural_key

_KEYWORD = re.compile(r"(10m|100m|1g|10g)([1-9][0-9]?)")
_SPEEDS = {"10m": 10, "100m": 100, "1g": 1000, "10g": 10000}


def _speed_matches(kind: str, speed: int | None) -> bool:
    if speed is None:
        return False
    return speed >= 10000 if kind == "10g" else speed == _SPEEDS[kind]


def describe(nics: Sequence[Nic]) -> str:
    if not nics:
        return "the machine reported no NIC"
    shown = (f"{n.name} ({n.speed_mbps} Mb/s)" if n.speed_mbps else f"{n.name} (speed unknown)" for n in _sorted(nics))
    return "reported NICs: " + ", ".join(shown)


def _sorted(nics: Sequence[Nic]) -> list[Nic]:
    return sorted(nics, key=lambda n: natural_key(n.name))


def resolve(name: str, nics: Sequence[Nic], where: str) -> Nic:
    """The NIC ``name`` designates on a machine with ``nics``; ``where`` says whose name it is, for the error."""
    keyword = _KEYWORD.fullmatch(name)
    if keyword is not None:
        kind, rank = keyword.group(1), int(keyword.group(2))
        matching = [n for n in _sorted(nics) if _speed_matches(kind, n.speed_mbps)]
        if rank <= len(matching):
            return matching[rank - 1]
        speed = ">= 10000" if kind == "10g" else str(_SPEEDS[kind])
        raise InvalidInput(
            f"{where}: '{name}' is NIC number {rank} at {speed} Mb/s, but the machine has {len(matching)} such NICs",
            hint=describe(nics),
        )
    for nic in nics:
        if nic.name == name:
            return nic
    raise InvalidInput(f"{where}: the machine has no NIC named '{name}'", hint=describe(nics))
