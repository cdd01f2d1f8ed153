"""Certificates the workflow needs, issued when it needs them: the cluster's API name at cluster-create
(and when its VIP hostname changes), each machine's FQDN and addresses at machine-add and when its
hostname changes. A certificate an operator installed from another CA (oci-pki install) is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from oci import names
from oci.errors import InvalidInput
from oci.model import AllocationKind, Cluster, Network
from oci.pki import ssh
from oci.pki.authority import Authority, Settings
from oci.pki.x509 import KEY_TYPES
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


# ---------------------------------------------------------------------------------- oci-pki's operations
# Local-only operations (lib/oci/operations.py): the certificate authority is reached on the master only.


def _authority(store: Store, ca_key_type: str | None = None) -> Authority:
    cfg = store.config
    settings = Settings(
        ca_key_type=ca_key_type or cfg.pki_ca_key_type,
        key_type=cfg.pki_key_type,
        root_days=cfg.pki_root_days,
        ca_days=cfg.pki_ca_days,
        leaf_days=cfg.pki_leaf_days,
    )
    return Authority(store, settings)


def _key_type(value: str | None, what: str) -> str | None:
    if value is not None and value not in KEY_TYPES:
        raise InvalidInput(f"invalid {what} {value!r}", hint="one of " + ", ".join(KEY_TYPES))
    return value


def init(store: Store, ca_key_type: str | None = None) -> dict[str, Any]:
    return _authority(store, _key_type(ca_key_type, "CA key type")).init(_now())


def issue(store: Store, fqdn: str, ips: list[str] | None = None, client: bool = False, key_type: str | None = None) -> dict[str, str]:
    addresses = ips or []
    if not all(type(ip) is str for ip in addresses):
        raise InvalidInput("an IP address must be a string")
    return _authority(store).issue(fqdn, addresses, _now(), client_only=client, key_type=_key_type(key_type, "key type"))


def list_(store: Store) -> list[dict[str, Any]]:
    return _authority(store).list_(_now())


def show(store: Store, fqdn: str) -> dict[str, Any]:
    names.fqdn(fqdn, "certificate name")
    return _authority(store).describe(fqdn, _now())


def renew(store: Store, fqdn: str) -> dict[str, str]:
    names.fqdn(fqdn, "certificate name")
    return _authority(store).renew(fqdn, _now())


def revoke(store: Store, fqdn: str) -> dict[str, Any]:
    names.fqdn(fqdn, "certificate name")
    return _authority(store).revoke(fqdn, _now())


def install(store: Store, fqdn: str, cert: str, key: str, chain: str | None = None) -> dict[str, str]:
    """PEM text (the command reads the files): a key from another CA, kept mode 0600."""
    return _authority(store).install(fqdn, _pem(cert), _pem(key), _pem(chain or ""))


def _pem(text: str) -> bytes:
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidInput("a PEM file is ASCII text") from None


def ssh_known_hosts(store: Store, cluster: str) -> dict[str, str]:
    found = store.get(Cluster, cluster)
    return {"cluster": found.name, "known_hosts": ssh.known_hosts_line(store, found.name, found.domain)}


def ssh_sign_user(
    store: Store, cluster: str, public_key: str, identity: str | None = None, principals: list[str] | None = None
) -> dict[str, str]:
    """An operator's SSH certificate from the cluster's user CA (valid 1 day)."""
    found = store.get(Cluster, cluster)
    logins = principals or ["root"]
    if not all(type(p) is str for p in logins):
        raise InvalidInput("a principal must be a string")
    return {"certificate": ssh.sign(store, found.name, public_key, identity or "operator", logins, host=False)}
