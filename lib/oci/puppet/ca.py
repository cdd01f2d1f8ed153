"""The Puppet server's CA, used by OCI to issue each node's agent certificate at install time and to revoke it.

``puppetserver ca generate``, ``revoke`` and ``clean`` all need a running server (they go through its HTTP
API), and an install must not depend on a 1 GB JVM being up; so OCI signs in the CA's own files, in the
format Puppet's CA keeps them (``serial``, ``inventory.txt``, ``signed/<name>.pem``, ``ca_crl.pem``). With
``autosign = false`` nothing else signs there. A revocation rewrites the CA's CRL and the server's copy
(``hostcrl``), which the server's web server reloads when the file changes (docs/puppet-runs.md)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from oci import names
from oci import puppet as layout
from oci.errors import Conflict
from oci.pki import x509 as pki_x509
from oci.store import Store
from oci.store.files import atomic_write
from oci.store.locks import file_lock

KEY_TYPE = "rsa-2048"  # Puppet makes 4096 bits; 2048 takes a second, not 15, on a loaded master
VALIDITY = timedelta(days=5 * 365)
BACKDATE = timedelta(days=1)  # as Puppet's CA does: a node whose clock lags still accepts it
CRL_VALIDITY = timedelta(days=5 * 365)
LOCK_TIMEOUT = 60
PEM_BLOCK = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----\n?", re.S)


@dataclass(frozen=True)
class AgentCredentials:
    certificate_pem: str
    private_key_pem: str
    ca_pem: str
    crl_pem: str


def _cadir(store: Store) -> Path:
    return layout.cadir(store.config.puppet_confdir)


def ready(store: Store) -> bool:
    """The CA exists (``oci-puppet-setup`` made it)."""
    cadir = _cadir(store)
    return all((cadir / name).is_file() for name in ("ca_crt.pem", "ca_key.pem", "ca_crl.pem", "serial"))


def _require(store: Store) -> Path:
    if not ready(store):
        raise Conflict("no Puppet CA on this master", hint="run oci-puppet-setup")
    return _cadir(store)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _signer(cadir: Path) -> tuple[x509.Certificate, pki_x509.PrivateKey]:
    # ca_crt.pem holds the intermediate (the signer) first, then the root.
    return pki_x509.load_cert((cadir / "ca_crt.pem").read_bytes()), pki_x509.load_key((cadir / "ca_key.pem").read_bytes())


def _agent_certificate(fqdn: str, key: pki_x509.PrivateKey, signer: tuple[x509.Certificate, pki_x509.PrivateKey], serial: int,
                       now: datetime) -> x509.Certificate:  # fmt: skip
    ca_cert, ca_key = signer
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, fqdn)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(fqdn)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _inventory_line(cert: x509.Certificate, fqdn: str) -> str:
    stamp = "%Y-%m-%dT%H:%M:%SUTC"
    return f"0x{cert.serial_number:04x} {cert.not_valid_before:{stamp}} {cert.not_valid_after:{stamp}} /CN={fqdn}\n"


def _credentials(cadir: Path, certificate: bytes, key: bytes) -> AgentCredentials:
    return AgentCredentials(
        certificate_pem=certificate.decode(),
        private_key_pem=key.decode(),
        ca_pem=(cadir / "ca_crt.pem").read_text(),
        crl_pem=(cadir / "ca_crl.pem").read_text(),
    )


def issue(store: Store, fqdn: str) -> AgentCredentials:
    """A new key and agent certificate for ``fqdn``, with the CA's chain and CRL; an older certificate for that
    name is revoked first (a reinstall). The key is returned, never written on the master."""
    fqdn = names.fqdn(fqdn, "certname")
    cadir = _require(store)
    key = pki_x509.new_key(KEY_TYPE)
    with file_lock(cadir / ".oci-lock", LOCK_TIMEOUT, "Puppet CA"):
        _revoke_locked(store, cadir, fqdn)
        serial = int((cadir / "serial").read_text().strip(), 16)
        cert = _agent_certificate(fqdn, key, _signer(cadir), serial, _now())
        certificate = pki_x509.cert_pem(cert)
        atomic_write(cadir / "signed" / f"{fqdn}.pem", certificate, mode=0o644)
        with open(cadir / "inventory.txt", "a+", encoding="ascii") as inventory:
            inventory.seek(0)
            text = inventory.read()
            separator = "\n" if text and not text.endswith("\n") else ""  # Puppet's CA ends its last line with none
            inventory.write(separator + _inventory_line(cert, fqdn))
            inventory.flush()
            os.fsync(inventory.fileno())
        atomic_write(cadir / "serial", f"{serial + 1:04X}\n".encode(), mode=0o644)
        return _credentials(cadir, certificate, pki_x509.key_pem(key))


def revoke(store: Store, fqdn: str) -> bool:
    """Revoke and remove ``fqdn``'s agent certificate; the server refuses it from then on. False if there was
    none (or no CA at all: nothing was ever issued)."""
    fqdn = names.fqdn(fqdn, "certname")
    cadir = _cadir(store)
    if not ready(store) or not (cadir / "signed" / f"{fqdn}.pem").exists():
        return False  # checked again under the lock; nothing written for a name never issued
    with file_lock(cadir / ".oci-lock", LOCK_TIMEOUT, "Puppet CA"):
        return _revoke_locked(store, cadir, fqdn)


def _revoke_locked(store: Store, cadir: Path, fqdn: str) -> bool:
    signed = cadir / "signed" / f"{fqdn}.pem"
    try:
        cert = pki_x509.load_cert(signed.read_bytes())
    except FileNotFoundError:
        return False
    crls = PEM_BLOCK.findall((cadir / "ca_crl.pem").read_bytes())
    current = x509.load_pem_x509_crl(crls[0])  # the intermediate's; the root's follows, unchanged
    ca_cert, ca_key = _signer(cadir)
    now = _now()
    number = current.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - BACKDATE)
        .next_update(now + CRL_VALIDITY)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for entry in current:
        builder = builder.add_revoked_certificate(entry)
    builder = builder.add_revoked_certificate(
        x509.RevokedCertificateBuilder().serial_number(cert.serial_number).revocation_date(now).build()
    )
    chain = pki_x509.crl_pem(builder.sign(ca_key, hashes.SHA256())) + b"".join(crls[1:])
    atomic_write(cadir / "ca_crl.pem", chain, mode=0o644)
    # The server checks agents against its own copy (hostcrl), which it reloads when the file changes.
    atomic_write(layout.ssldir(store.config.puppet_confdir) / "crl.pem", chain, mode=0o644)
    signed.unlink()
    return True
