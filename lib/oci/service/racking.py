"""Racking from LLDP on the master (docs/racking.md): the operator's rules, read when they change, and what they
make of a machine's LLDP neighbours. The rules are in oci.racking (pure)."""

from __future__ import annotations

from typing import Any

from oci import racking
from oci.errors import NotFound
from oci.model import Machine
from oci.service import machines, operatorfiles
from oci.store import Store


def rules(store: Store) -> racking.Rules:
    return operatorfiles.load(store.config.racking_rules, racking.parse, racking.Rules())


def guessed(store: Store, serial: str) -> dict[str, Any]:
    """Where the machine is: its rack's coordinates (the ``loc_*`` settings), its location, and the NIC, switch
    and port that told; NotFound, in one line with each NIC's reason, when its neighbours fit no rule."""
    machine = store.get(Machine, serial)
    found, why = racking.guess(rules(store), machine.hardware)
    if found is None:
        raise NotFound(f"no rack for {serial}: " + "; ".join(why), hint=f"see the racking rules ({store.config.racking_rules})")
    return {"serial": serial, **found.settings, "location": found.location, "nic": found.nic, "switch": found.switch, "port": found.port}


def auto_rack(store: Store, ident: str, dry_run: bool = False) -> dict[str, Any]:
    """Write the machine's guessed rack into its settings (``loc_dc`` .. ``loc_u_end``), or with ``dry_run``
    only say what would change. ``changed``: each setting that differs, with its value before."""
    serial = machines.resolve(store, ident)
    guess = guessed(store, serial)
    before = machines.show(store, serial)["settings"]
    wanted = {k: guess[k] for k in ("loc_dc", "loc_row", "loc_rack", "loc_u_start", "loc_u_end")}
    changed = {k: {"from": before.get(k), "to": v} for k, v in wanted.items() if before.get(k) != v}
    if changed and not dry_run:
        machines.set_(store, serial, wanted, [])
    return {**guess, "changed": changed, "applied": bool(changed) and not dry_run}
