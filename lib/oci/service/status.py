"""Node status reports: where a machine stands in its life (live, installing, ... puppet-success)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from ipaddress import IPv4Address
from typing import Any

from oci import names
from oci.enc import refresh as enc
from oci.errors import Conflict, InvalidInput, NotFound
from oci.model import Machine, MachineStatus, Phase, PuppetStatus
from oci.store import Store

MACHINE_STATUS = {
    Phase.LIVE: MachineStatus.LIVE,
    Phase.INSTALLING: MachineStatus.INSTALLING,
    Phase.FIRSTBOOT: MachineStatus.FIRSTBOOT,
    Phase.INSTALLED: MachineStatus.INSTALLED,
}
PUPPET_STATUS = {
    Phase.PUPPET_RUNNING: PuppetStatus.RUNNING,
    Phase.PUPPET_SUCCESS: PuppetStatus.SUCCESS,
    Phase.PUPPET_FAILURE: PuppetStatus.FAILURE,
}


def parse_phase(text: object) -> Phase:
    try:
        if not isinstance(text, str):
            raise ValueError
        return Phase(text)
    except ValueError:
        shown = repr(text) if len(repr(text)) < 40 else repr(text)[:37] + "..."
        raise InvalidInput(f"unknown status {shown}", hint="one of " + ", ".join(p.value for p in Phase)) from None


@enc.follows  # the ENC re-renders only when the classification may change (enc.refresh._classified)
def record(store: Store, serial: str, status: str, address: IPv4Address | None, now: datetime) -> dict[str, Any]:
    """Apply a status report: the machine's status or puppet status, and a line of history."""
    phase = parse_phase(status)
    names.serial(serial)
    with store.machine_lock([serial]):
        machine = store.find(Machine, serial)
        if machine is None:
            raise NotFound(f"no machine with serial '{serial}'", hint="a machine is known once its agent has sent a hardware report")
        if phase in MACHINE_STATUS:
            new_status = MACHINE_STATUS[phase]
            # Each install starts Puppet afresh (as in the reference).
            puppet = PuppetStatus.NOTRUN if phase is Phase.INSTALLING else machine.puppet_status
        else:
            new_status, puppet = machine.status, PUPPET_STATUS[phase]
        updated = replace(machine, status=new_status, puppet_status=puppet, history=machine.reached(phase.value, now, address))
        if updated != machine:
            store.write_machine(updated)
    return {"serial": serial, "status": new_status.value, "puppet_status": puppet.value}


def serial_of_address(store: Store, address: IPv4Address | None) -> str:
    """The machine whose last hardware report came from ``address`` (OCI 42 nodes that send no serial)."""
    if address is None:
        raise InvalidInput("no serial given, and the request's address cannot identify a machine")
    found = [serial for serial, beat in store.heartbeats().items() if beat.address == address]
    if len(found) != 1:
        what = "no machine" if not found else f"{len(found)} machines ({', '.join(sorted(found)[:3])})"
        raise (NotFound if not found else Conflict)(f"{what} reported from {address}", hint="send chassis-serial")
    return found[0]
