"""Node identity: which addresses may speak for a machine, the conflicts recorded when another one tries,
and the operator's way out after a genuine renumbering (docs/security.md, "Node trust").

A machine OCI knows (it has a machine file) speaks from its *own addresses*: the addresses OCI allocated to it
(kind ``machine``) and the source of its last accepted report (its heartbeat). A report, a status or a host
key request for it from any other address is refused with 409 and recorded as a conflict, unless it carries
proof of identity: a signature made with the host key OCI certified for it (oci.pki.nodesig). A refused
request changes nothing of the machine; the conflict record is the only file it writes.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import replace
from datetime import datetime
from ipaddress import IPv4Address
from typing import Any

from oci import names
from oci.errors import Conflict, InvalidInput
from oci.model import AddressConflict, AllocationKind, Heartbeat, Machine, Network
from oci.pki import nodesig
from oci.store import Store

LOG = logging.getLogger("oci.identity")
CONFLICTS_KEPT = 20  # distinct (address, route) pairs per machine


def allocated_addresses(networks: list[Network], serial: str) -> set[IPv4Address]:
    return {a.address for n in networks for a in n.allocations if a.kind is AllocationKind.MACHINE and a.owner == serial}


def own_addresses(store: Store, serial: str, networks: list[Network] | None = None) -> set[IPv4Address]:
    """The addresses ``serial`` may speak from: its allocations and the source of its last accepted report."""
    beat = store.heartbeat(serial)
    owned = allocated_addresses(store.all(Network) if networks is None else networks, serial)
    if beat is not None and beat.address is not None:
        owned.add(beat.address)
    return owned


def check(
    store: Store,
    serial: str,
    source: IPv4Address | None,
    route: str,
    now: datetime,
    proof: nodesig.Proof | None = None,
    networks: list[Network] | None = None,
) -> bool:
    """May the request from ``source`` speak for ``serial``? True for a machine OCI does not know yet (the
    caller decides whether it may be created), False for a known one asking from its own address or proving
    itself; otherwise the attempt is recorded and Conflict raised."""
    names.serial(serial)
    networks = store.all(Network) if networks is None else networks
    machine = store.find(Machine, serial)
    if machine is None:
        return True
    if source is not None and source in own_addresses(store, serial, networks):
        return False
    if proof is not None and machine.host_key is not None and nodesig.verify(proof, machine.host_key, now):
        LOG.info("%s proved it is machine %s (signed with its certified host key) from %s", route, serial, source)
        return False
    shown = str(source) if source is not None else "an unknown address"
    record_conflict(store, serial, shown, route, now)
    raise Conflict(
        f"{shown} is not an address of machine {serial}: {route} refused and recorded",
        hint=f"after a genuine renumbering: ocicli machine-accept-address {serial} ADDRESS (see machine-conflicts {serial})",
    )


def record_conflict(store: Store, serial: str, address: str, route: str, now: datetime) -> None:
    with store.machine_lock([serial]):
        entries = store.conflicts(serial)
        for i, entry in enumerate(entries):
            if (entry.address, entry.route) == (address, route):
                entries[i] = replace(entry, last=now, count=entry.count + 1)
                break
        else:
            entries.append(AddressConflict(address=address, route=route, first=now, last=now))
            LOG.warning("refused %s for machine %s from %s: not one of its addresses", route, serial, address)
        # Past the cap, the entries whose source has been quiet longest go first; the list stays in order of first sight.
        kept = sorted(sorted(entries, key=lambda c: c.last)[-CONFLICTS_KEPT:], key=lambda c: c.first)
        store.write_conflicts(serial, kept)


def _row(conflict: AddressConflict) -> dict[str, Any]:
    def iso(when: datetime) -> str:
        return when.isoformat(timespec="seconds").replace("+00:00", "Z")

    return {"address": conflict.address, "route": conflict.route, "first": iso(conflict.first), "last": iso(conflict.last),
            "count": conflict.count}  # fmt: skip


def conflicts(store: Store, serial: str) -> list[dict[str, Any]]:
    """``machine-conflicts``: the refused requests recorded for a machine, oldest first."""
    store.get(Machine, serial)
    return [_row(c) for c in store.conflicts(serial)]


def clear_conflicts(store: Store, serial: str) -> dict[str, Any]:
    """``machine-conflicts-clear``: forget the recorded conflicts (the audit log keeps the operator's act)."""
    with store.machine_lock([serial]):
        store.get(Machine, serial)
        cleared = len(store.conflicts(serial))
        store.write_conflicts(serial, [])
    return {"serial": serial, "cleared": cleared}


def accept_address(store: Store, serial: str, address: str, now: datetime) -> dict[str, Any]:
    """``machine-accept-address``: after a genuine renumbering, make ``address`` the machine's report address
    (its heartbeat's), so its requests from there are accepted; conflicts from that address are cleared."""
    try:
        new = ipaddress.IPv4Address(address)
    except ValueError:
        raise InvalidInput(f"{str(address)[:40]!r} is not an IPv4 address") from None
    for network in store.all(Network):
        for allocation in network.allocations:
            if allocation.address == new and allocation.owner != serial:
                raise Conflict(f"{new} is allocated to {allocation.owner} on network {network.name}", hint="it speaks only for its owner")
    with store.machine_lock([serial]):
        store.get(Machine, serial)
        beat = store.heartbeat(serial)
        # No heartbeat yet: an empty digest makes the next report a full update (docs/state.md).
        store.write_heartbeat(serial, replace(beat, address=new) if beat else Heartbeat(now, 0, "", new))
        kept = [c for c in store.conflicts(serial) if c.address != str(new)]
        store.write_conflicts(serial, kept)
    LOG.info("machine %s now reports from %s (accepted by the operator)", serial, new)
    return {"serial": serial, "address": str(new)}
