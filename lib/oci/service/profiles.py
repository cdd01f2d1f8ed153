"""Hardware profiles on the master (docs/profiles.md): the operator's file, read when it changes, and what its
profiles make of each machine. The rules are in oci.profiles (pure).

A machine's settings are layered: the settings table's defaults, then the profile that applies to it (its
layout first), then what ``machine-set`` stored for it. So a profile decides the layout of a kind of server,
and one machine can still differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oci import profiles
from oci.model import Machine
from oci.model.settings import MACHINE_SETTINGS, Value, effective
from oci.service import operatorfiles
from oci.store import Store


def load(path: Path) -> tuple[profiles.Profile, ...]:
    """The file's profiles (none when it does not exist); InvalidInput, in one line, for a wrong file."""
    return operatorfiles.load(path, profiles.parse, ())


def of(store: Store) -> tuple[profiles.Profile, ...]:
    return load(store.config.hardware_profiles)


def settings(store: Store, machine: Machine) -> dict[str, Value | None]:
    """The machine's effective settings: the defaults, then the profile that applies to it, then its own."""
    profile = profiles.applying(of(store), machine.hardware)
    layered = {**(profile.settings if profile else {}), **machine.settings}
    return effective(MACHINE_SETTINGS, layered)


def applying_name(store: Store, machine: Machine) -> str | None:
    profile = profiles.applying(of(store), machine.hardware)
    return profile.name if profile else None


def list_(store: Store) -> list[dict[str, Any]]:
    """Every profile, in the file's order (OCI 42's profile-list columns, and the layout)."""
    return [
        {"name": p.name, "role": p.role, "product_names": list(p.match.product_name),
         "ram_min": _number(p.match.ram_gib.min if p.match.ram_gib else None),
         "ram_max": _number(p.match.ram_gib.max if p.match.ram_gib else None),
         "layout": p.layout, "settings": dict(p.settings), "description": p.description}
        for p in of(store)
    ]  # fmt: skip


def _number(value: float | None) -> int | float | None:
    """256, not 256.0: the operator wrote a whole number of GiB."""
    return int(value) if value is not None and value.is_integer() else value


def guessed(store: Store, serial: str) -> dict[str, Any]:
    """Which profiles fit the machine, why each other one does not, and the one that applies (the only one
    that fits; none when none or several do)."""
    machine = store.get(Machine, serial)
    found = of(store)
    rows = [{"name": p.name, "role": p.role, "fits": not why, "mismatches": why}
            for p, why in ((p, profiles.mismatches(p, machine.hardware)) for p in found)]  # fmt: skip
    fit = [r["name"] for r in rows if r["fits"]]
    return {"serial": serial, "profiles": rows, "fitting": fit, "applies": fit[0] if len(fit) == 1 else None}
