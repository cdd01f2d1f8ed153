"""Signing host keys: a live node's (with the live-image CA) and an installed node's (with its cluster's)."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

from oci import names
from oci.errors import Forbidden
from oci.model import AllocationKind, Cluster, Machine, MachineStatus, Network
from oci.pki import ssh
from oci.store import Store


def _addresses(store: Store, serial: str) -> list[str]:
    return [str(a.address) for n in store.all(Network) for a in n.allocations if a.kind is AllocationKind.MACHINE and a.owner == serial]


def sign_host_key(store: Store, serial: str, public_key: str, source: IPv4Address | None) -> dict[str, Any]:
    """The node endpoint: sign the host key of a machine OCI knows, reporting from its own address.

    A machine in the live image gets a live-CA certificate for ``<serial>.oci-debian-live`` and the address
    it reports from; an installed machine gets its cluster's host-CA certificate for its FQDN, short name
    and addresses.
    """
    names.serial(serial)
    machine = store.get(Machine, serial)
    beat = store.heartbeat(serial)
    addresses = _addresses(store, serial)
    known = {str(beat.address)} if beat and beat.address else set()
    if source is None or str(source) not in known | set(addresses):
        raise Forbidden(f"{source} is not an address of machine {serial}", hint="a node asks from the address it reports from")
    if machine.enrolment is not None and machine.status is not MachineStatus.LIVE:
        enrolment = machine.enrolment
        principals = [enrolment.hostname, enrolment.short_hostname, *addresses]
        cluster: str | None = enrolment.cluster
        store.get(Cluster, cluster)
    else:
        # Lower case: ssh compares principals with the host name it was given, which it lowercases.
        principals, cluster = [f"{serial}.{ssh.LIVE_DOMAIN}".lower(), str(source)], None
    certificate = ssh.sign(store, cluster, public_key, identity=f"oci-host-{serial}", principals=principals)
    return {"serial": serial, "certificate": certificate, "principals": principals, "ca": ssh.public_ca(store, cluster)}
