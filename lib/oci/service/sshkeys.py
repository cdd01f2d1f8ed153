"""Signing host keys: a live node's (with the live-image CA) and an installed node's (with its cluster's)."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import IPv4Address
from typing import Any

from oci import names
from oci.errors import Forbidden
from oci.model import Cluster, Machine, MachineStatus, Network
from oci.pki import ssh
from oci.service import identity
from oci.store import Store


def sign_host_key(store: Store, serial: str, public_key: str, source: IPv4Address | None) -> dict[str, Any]:
    """The node endpoint: sign the host key of a machine OCI knows, asking from the address it is known at.

    A machine in the live image gets a live-CA certificate for ``<serial>.oci-debian-live`` and the address
    of its last accepted report, asked from that address; an installed (or installing) machine gets its
    cluster's host-CA certificate for its FQDN, short name and addresses, asked from one of those addresses.
    No proof of identity replaces the address here: a certificate names addresses, and a signature made from
    elsewhere would put the wrong one in it (docs/security.md, "Node trust"). The key certified is recorded
    on the machine: the node may later sign its requests with it.
    """
    names.serial(serial)
    machine = store.get(Machine, serial)
    installed = machine.enrolment is not None and machine.status is not MachineStatus.LIVE
    if installed:
        addresses = sorted(identity.allocated_addresses(store.all(Network), serial))
        known = set(addresses)
    else:
        beat = store.heartbeat(serial)
        addresses = [beat.address] if beat and beat.address else []
        known = set(addresses)
    if source is None or source not in known:
        where = ", ".join(map(str, addresses)) or "no address yet"
        raise Forbidden(
            f"{source} is not the address machine {serial} is known at ({where})", hint="a node asks from the address it reports from"
        )
    if installed:
        enrolment = machine.enrolment
        assert enrolment is not None
        principals = [enrolment.hostname, enrolment.short_hostname, *map(str, addresses)]
        cluster: str | None = enrolment.cluster
        store.get(Cluster, cluster)
    else:
        # Lower case: ssh compares principals with the host name it was given, which it lowercases.
        principals, cluster = [f"{serial}.{ssh.LIVE_DOMAIN}".lower(), str(source)], None
    certificate = ssh.sign(store, cluster, public_key, identity=f"oci-host-{serial}", principals=principals)
    key = " ".join(public_key.split()[:2])  # without the comment: the key is what a signature is checked against
    with store.machine_lock([serial]):
        current = store.find(Machine, serial)
        if current is not None and current.host_key != key:
            store.write_machine(replace(current, host_key=key))
    return {"serial": serial, "certificate": certificate, "principals": principals, "ca": ssh.public_ca(store, cluster)}
