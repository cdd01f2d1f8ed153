"""Bring a cluster's addresses in line with its rules: every machine on each network it belongs to has an
address there, and every VIP the cluster needs is reserved. Pure: it returns the networks to write."""

from __future__ import annotations

from dataclasses import replace

from oci import ipam, placement, vips
from oci.errors import Conflict
from oci.model import AllocationKind, Network
from oci.placement import ClusterView


def plan_addresses(view: ClusterView) -> tuple[ClusterView, dict[str, Network]]:
    """The view after allocation, and the networks that changed (name -> new network).

    Existing addresses are never moved or taken away: this only adds what is missing, so running it after
    any change (machine-add, network-add, network-set) is safe and makes the result independent of the
    order in which machines and networks were added. Raises ``Conflict`` if a network is full, in which
    case the caller writes nothing.
    """
    nets = {n.name: n for n in view.networks}
    changed: set[str] = set()
    for member in view.members:
        for network in placement.addressed_networks(view, member.role, member.location):
            current = nets[network.name]
            if not ipam.addresses_of(current, AllocationKind.MACHINE, member.serial):
                try:
                    nets[network.name], _ = ipam.allocate(current, AllocationKind.MACHINE, member.serial)
                except Conflict as exc:
                    raise Conflict(f"cannot give {member.hostname} an address: {exc.message}", hint=exc.hint) from None
                changed.add(network.name)
    view = replace(view, networks=tuple(nets[n.name] for n in view.networks))

    reserved = vips.current(view)
    for need in vips.needs(view):
        if need.usage in reserved or not need.candidates:
            continue
        last_error: Conflict | None = None
        for name in need.candidates:
            try:
                nets[name], _ = ipam.allocate(nets[name], AllocationKind.VIP, need.usage.value)
            except Conflict as exc:
                last_error = exc
                continue
            changed.add(name)
            break
        else:
            assert last_error is not None
            raise Conflict(f"cannot reserve the {need.usage.value} VIP: {last_error.message}", hint=last_error.hint)
        view = replace(view, networks=tuple(nets[n.name] for n in view.networks))
    return view, {name: nets[name] for name in sorted(changed)}
