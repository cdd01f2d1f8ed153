"""Certificates the workflow needs, issued when it needs them: the cluster's API name at cluster-create
(and when its VIP hostname changes), each machine's FQDN and addresses at machine-add and when its
hostname changes. A certificate an operator installed from another CA (oci-pki install) is kept."""

from __future__ import annotations

from datetime import UTC, datetime

from oci.model import AllocationKind, Network
from oci.pki.authority import Authority
from oci.store import Store


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def for_api(store: Store, api_hostname: str) -> None:
    Authority(store).ensure(api_hostname, [], _now())


def for_machine(store: Store, serial: str, hostname: str) -> None:
    addresses = [
        str(a.address) for n in store.all(Network) for a in n.allocations if a.kind is AllocationKind.MACHINE and a.owner == serial
    ]
    Authority(store).ensure(hostname, addresses, _now())


def retire(store: Store, hostname: str) -> None:
    """Revoke the certificate of a name no longer in use (a machine renamed), if OCI issued one."""
    authority = Authority(store)
    if authority.has(hostname):
        authority.revoke_if_ours(hostname, _now())
