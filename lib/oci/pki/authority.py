"""OCI's certificate authority: a root CA, an intermediate "OCI CA" that signs everything, node and API
certificates, revocation with a CRL. Files live under ``<state>/pki`` (keys mode 0600):

    pki/root.pem  pki/root.key                 the root (kept on the master, used only to sign the intermediate)
    pki/oci-ca.pem  pki/oci-ca.key             the intermediate
    pki/ca-chain.pem                           intermediate + root, what nodes and clients trust
    pki/crl.pem  pki/revoked.yaml              revoked serial numbers and the signed list
    pki/certs/<fqdn>/{key.pem,cert.pem,chain.pem}   chain.pem: the certificate and the intermediate
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509

from oci import names
from oci.errors import Conflict, InvalidInput, InvalidState, NotFound
from oci.model.codec import decode, encode
from oci.pki import x509 as build
from oci.store import Store
from oci.store.files import dump_yaml, load_yaml

RENEW_BEFORE = timedelta(days=30)


@dataclass(frozen=True)
class Settings:
    organisation: str = "openstack-cluster-installer"
    ca_key_type: str = "ec-p384"
    key_type: str = "ec-p256"
    root_days: int = 7300
    ca_days: int = 3650
    leaf_days: int = 825


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


class Authority:
    """``settings``: given to ``init`` (from ``[pki]`` of the configuration), recorded in pki/settings.yaml,
    and read back from there by every later use, whichever process it is (machine-add, oci-pki, oci-api)."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        recorded = store.read_blob("pki", "settings.yaml")
        if settings is None and recorded is not None:
            settings = decode(Settings, load_yaml(recorded), "pki/settings.yaml", error=InvalidState)
        self.settings = settings or Settings()

    # ------------------------------------------------------------------------------------------ the CA
    def _ca(self) -> tuple[x509.Certificate, build.PrivateKey]:
        cert, key = self.store.read_blob("pki", "oci-ca.pem"), self.store.read_blob("pki", "oci-ca.key")
        if cert is None or key is None:
            raise NotFound("the certificate authority is not initialised", hint="run oci-pki init")
        return build.load_cert(cert), build.load_key(key)

    def init(self, now: datetime) -> dict[str, Any]:
        """Create the root and the intermediate CA if they do not exist (running it again changes nothing)."""
        s = self.settings
        created = []
        with self.store.topology_lock():
            root_pem, root_key_pem = self.store.read_blob("pki", "root.pem"), self.store.read_blob("pki", "root.key")
            if root_pem is None or root_key_pem is None:
                root_key = build.new_key(s.ca_key_type)
                root = build.ca_certificate(root_key, "OCI root CA", s.organisation, now, s.root_days, path_length=1)
                self.store.write_blob("pki", "root.key", data=build.key_pem(root_key), mode=0o600)
                self.store.write_blob("pki", "root.pem", data=build.cert_pem(root))
                self.store.remove_blob("pki", "oci-ca.pem")  # a new root needs a new intermediate
                created.append("root")
            else:
                root, root_key = build.load_cert(root_pem), build.load_key(root_key_pem)
            if self.store.read_blob("pki", "settings.yaml") is None or created:
                self.store.write_blob("pki", "settings.yaml", data=dump_yaml(encode(s)).encode())
            if self.store.read_blob("pki", "oci-ca.pem") is None:
                ca_key = build.new_key(s.ca_key_type)
                ca = build.ca_certificate(ca_key, "OCI CA", s.organisation, now, s.ca_days, issuer=(root, root_key), path_length=0)
                self.store.write_blob("pki", "oci-ca.key", data=build.key_pem(ca_key), mode=0o600)
                self.store.write_blob("pki", "oci-ca.pem", data=build.cert_pem(ca))
                self.store.write_blob("pki", "ca-chain.pem", data=build.cert_pem(ca) + build.cert_pem(root))
                self._write_crl(now)
                created.append("intermediate")
        return {"created": created, "chain": str(self.store.blob_path("pki", "ca-chain.pem"))}

    def ensure_initialised(self, now: datetime) -> None:
        if self.store.read_blob("pki", "oci-ca.pem") is None:
            self.init(now)

    # ------------------------------------------------------------------------------------------ leaves
    def _paths(self, fqdn: str) -> dict[str, str]:
        return {kind: str(self.store.blob_path("pki", "certs", fqdn, f"{kind}.pem")) for kind in ("key", "cert", "chain")}

    def issue(
        self, fqdn: str, ips: Sequence[str] = (), now: datetime | None = None, client_only: bool = False, key_type: str | None = None
    ) -> dict[str, str]:
        """A new key and certificate for ``fqdn`` (and ``ips``); replaces what was there."""
        names.fqdn(fqdn, "certificate name")
        when = now or datetime.now(UTC)
        self.ensure_initialised(when)
        request = build.LeafRequest(fqdn, (fqdn,), build.parse_ips(ips), server=not client_only, client=True)
        key = build.new_key(key_type or self.settings.key_type)
        with self.store.topology_lock():
            ca_cert, ca_key = self._ca()
            cert = build.leaf_certificate(request, key, (ca_cert, ca_key), self.settings.organisation, when, self.settings.leaf_days)
            self.store.write_blob("pki", "certs", fqdn, "key.pem", data=build.key_pem(key), mode=0o600)
            self.store.write_blob("pki", "certs", fqdn, "chain.pem", data=build.cert_pem(cert) + build.cert_pem(ca_cert))
            self.store.write_blob("pki", "certs", fqdn, "cert.pem", data=build.cert_pem(cert))
        return self._paths(fqdn)

    def ensure(self, fqdn: str, ips: Sequence[str], now: datetime) -> dict[str, str]:
        """Issue unless a valid certificate with these names exists, or one an operator installed."""
        self.ensure_initialised(now)
        current = self._load(fqdn)
        if current is not None:
            ca_cert, _ = self._ca()
            external = current.issuer != ca_cert.subject
            dns, addresses = build.alt_names(current)
            same_names = set(dns) == {fqdn} and set(addresses) == {str(ip) for ip in build.parse_ips(ips)}
            fresh = current.not_valid_after - RENEW_BEFORE > now.replace(tzinfo=None)
            if external or (same_names and fresh and not self._revoked(current.serial_number)):
                return self._paths(fqdn)
        return self.issue(fqdn, ips, now)

    def install(self, fqdn: str, cert_pem: bytes, key_pem: bytes, chain_pem: bytes = b"") -> dict[str, str]:
        """Use a certificate signed by another CA (a public API name): OCI keeps it and never replaces it."""
        names.fqdn(fqdn, "certificate name")
        try:
            cert, key = build.load_cert(cert_pem), build.load_key(key_pem)
        except ValueError as exc:
            raise InvalidInput(f"unreadable certificate or key: {exc}") from None
        if not build.matches(cert, key):
            raise InvalidInput("the key does not belong to the certificate")
        with self.store.topology_lock():
            self.store.write_blob("pki", "certs", fqdn, "key.pem", data=key_pem, mode=0o600)
            self.store.write_blob("pki", "certs", fqdn, "chain.pem", data=cert_pem + chain_pem)
            self.store.write_blob("pki", "certs", fqdn, "cert.pem", data=cert_pem)
        return self._paths(fqdn)

    def has(self, fqdn: str) -> bool:
        return self._load(fqdn) is not None

    def revoke_if_ours(self, fqdn: str, now: datetime) -> None:
        current = self._load(fqdn)
        if current is not None and current.issuer == self._ca()[0].subject and not self._revoked(current.serial_number):
            self._revoke_serial(current.serial_number, now)

    def _load(self, fqdn: str) -> x509.Certificate | None:
        data = self.store.read_blob("pki", "certs", names.fqdn(fqdn, "certificate name"), "cert.pem")
        return None if data is None else build.load_cert(data)

    def renew(self, fqdn: str, now: datetime) -> dict[str, str]:
        current = self._load(fqdn)
        if current is None:
            raise NotFound(f"no certificate for {fqdn}", hint="see oci-pki list")
        dns, addresses = build.alt_names(current)
        eku = current.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        client_only = x509.oid.ExtendedKeyUsageOID.SERVER_AUTH not in eku
        old_serial = current.serial_number
        paths = self.issue(fqdn, addresses, now, client_only=client_only)
        self._revoke_serial(old_serial, now)  # the old key is retired with its certificate
        return paths

    # ------------------------------------------------------------------------------------------ revocation
    def _revoked_list(self) -> list[dict[str, Any]]:
        data = self.store.read_blob("pki", "revoked.yaml")
        return list(load_yaml(data) or []) if data else []

    def _revoked(self, serial: int) -> bool:
        return any(entry["serial"] == str(serial) for entry in self._revoked_list())

    def _revoke_serial(self, serial: int, now: datetime) -> None:
        with self.store.topology_lock():
            entries = self._revoked_list()
            if not any(e["serial"] == str(serial) for e in entries):
                entries.append({"serial": str(serial), "revoked": _iso(now)})
                self.store.write_blob("pki", "revoked.yaml", data=dump_yaml(entries).encode())
            self._write_crl(now)

    def revoke(self, fqdn: str, now: datetime) -> dict[str, Any]:
        current = self._load(fqdn)
        if current is None:
            raise NotFound(f"no certificate for {fqdn}", hint="see oci-pki list")
        ca_cert, _ = self._ca()
        if current.issuer != ca_cert.subject:
            raise Conflict(f"the certificate of {fqdn} was not issued by OCI: revoke it with the CA that issued it")
        self._revoke_serial(current.serial_number, now)
        return {"name": fqdn, "serial": str(current.serial_number), "crl": str(self.store.blob_path("pki", "crl.pem"))}

    def _write_crl(self, now: datetime) -> None:
        ca = self._ca()
        revoked = [(int(e["serial"]), datetime.fromisoformat(e["revoked"].replace("Z", "+00:00"))) for e in self._revoked_list()]
        self.store.write_blob("pki", "crl.pem", data=build.crl_pem(build.revocation_list(ca, revoked, now)))

    # ------------------------------------------------------------------------------------------ reading
    def describe(self, fqdn: str, now: datetime) -> dict[str, Any]:
        cert = self._load(fqdn)
        if cert is None:
            raise NotFound(f"no certificate for {fqdn}", hint="see oci-pki list")
        dns, ips = build.alt_names(cert)
        expires = cert.not_valid_after
        ca_cert, _ = self._ca()
        return {
            "name": fqdn,
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "serial": str(cert.serial_number),
            "dns_names": dns,
            "ips": ips,
            "not_after": _iso(expires.replace(tzinfo=now.tzinfo)),
            "days_left": (expires - now.replace(tzinfo=None)).days,
            "revoked": self._revoked(cert.serial_number),
            "external": cert.issuer != ca_cert.subject,
            **self._paths(fqdn),
        }

    def list_(self, now: datetime) -> list[dict[str, Any]]:
        return [self.describe(fqdn, now) for fqdn in self.store.list_blobs("pki", "certs")]
