"""X.509 building blocks with the cryptography library: keys, CA certificates, leaf certificates, CRLs.

Pure functions of their inputs (the time is passed in), so tests can build expired certificates and
check that openssl refuses them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from oci.errors import InvalidInput

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
KEY_TYPES = ("ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096")


def new_key(kind: str) -> PrivateKey:
    if kind == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec-p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind.startswith("rsa-") and kind in KEY_TYPES:
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[4:]))
    raise InvalidInput(f"unknown key type {kind!r}", hint="one of " + ", ".join(KEY_TYPES))


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def matches(cert: x509.Certificate, key: PrivateKey) -> bool:
    """Whether ``key`` is the private half of the certificate's public key."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)


def crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


def load_key(data: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise InvalidInput("only RSA and EC private keys are supported")
    return key


def load_cert(data: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(data)


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation), x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ski(key: PrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _aki(issuer_key: PrivateKey) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())


def _validity(subject: x509.Name, issuer_name: x509.Name, key: PrivateKey, now: datetime, days: int) -> x509.CertificateBuilder:
    """A builder with names, key, a fresh random serial and the validity window every certificate shares."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # tolerate clocks a little behind
        .not_valid_after(now + timedelta(days=days))
    )


def ca_certificate(
    key: PrivateKey,
    common_name: str,
    organisation: str,
    now: datetime,
    days: int,
    issuer: tuple[x509.Certificate, PrivateKey] | None = None,
    path_length: int | None = None,
) -> x509.Certificate:
    """A CA certificate: self-signed (the root) or signed by ``issuer`` (the intermediate)."""
    subject = _name(common_name, organisation)
    issuer_name, issuer_key = (issuer[0].subject, issuer[1]) if issuer else (subject, key)
    builder = (
        _validity(subject, issuer_name, key, now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(_ski(key), critical=False)
        .add_extension(_aki(issuer_key), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class LeafRequest:
    common_name: str  # an FQDN
    dns_names: tuple[str, ...]
    ips: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]
    server: bool = True
    client: bool = True


def leaf_certificate(
    request: LeafRequest, key: PrivateKey, issuer: tuple[x509.Certificate, PrivateKey], organisation: str, now: datetime, days: int
) -> x509.Certificate:
    """A server and/or client certificate with every name in subjectAltName (the reference dropped it)."""
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if request.server else []) + ([ExtendedKeyUsageOID.CLIENT_AUTH] if request.client else [])
    if not usages:
        raise InvalidInput("a certificate must be for a server, a client or both")
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in request.dns_names]
    alt_names += [x509.IPAddress(ip) for ip in request.ips]
    ca_cert, ca_key = issuer
    rsa_key = isinstance(key, rsa.RSAPrivateKey)
    builder = (
        _validity(_name(request.common_name, organisation), ca_cert.subject, key, now, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=rsa_key,
                data_encipherment=False,
                key_agreement=not rsa_key,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(_ski(key), critical=False)
        .add_extension(_aki(ca_key), critical=False)
    )
    return builder.sign(ca_key, hashes.SHA256())


def revocation_list(
    issuer: tuple[x509.Certificate, PrivateKey], revoked: Iterable[tuple[int, datetime]], now: datetime, days: int = 7
) -> x509.CertificateRevocationList:
    ca_cert, ca_key = issuer
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - timedelta(minutes=5))
        .next_update(now + timedelta(days=days))
        .add_extension(_aki(ca_key), critical=False)
    )
    for serial, when in sorted(revoked):
        builder = builder.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    return builder.sign(ca_key, hashes.SHA256())


def alt_names(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    try:
        extension = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    return list(extension.get_values_for_type(x509.DNSName)), [str(ip) for ip in extension.get_values_for_type(x509.IPAddress)]


def parse_ips(values: Sequence[str]) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    out = []
    for value in values:
        try:
            out.append(ipaddress.ip_address(value))
        except ValueError:
            raise InvalidInput(f"invalid IP address {value!r}") from None
    return tuple(out)
