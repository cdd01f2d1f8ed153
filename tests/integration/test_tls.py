"""oci-api over HTTPS with a test certificate; ocicli verifies it against a CA file."""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import NOW, REPO, free_port
from oci.service import tokens
from oci.store import Store


def certificate(subject, issuer_key, issuer_name, key, ca=False, ip=None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def test_https_with_a_ca_file(tmp_path):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OCI test CA")])
    ca = certificate("OCI test CA", ca_key, ca_name, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate("127.0.0.1", ca_key, ca_name, key, ip="127.0.0.1")
    for name, obj in (("ca.pem", ca), ("server.pem", cert), ("server.key", key)):
        (tmp_path / name).write_bytes(pem(obj))
    state = tmp_path / "state"
    token = tokens.create(Store(state), "tls", NOW)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCI_")}
    server = subprocess.Popen([str(REPO / "bin" / "oci-api"), "--listen", f"127.0.0.1:{port}", "--tls-cert", str(tmp_path / "server.pem"),
                               "--tls-key", str(tmp_path / "server.key")], env={**env, "OCI_STATE_DIR": str(state)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        client = {**env, "OCI_API_URL": f"https://127.0.0.1:{port}", "OCI_API_TOKEN": token}
        ocicli = [str(REPO / "bin" / "ocicli")]
        deadline = time.monotonic() + 20
        while True:
            done = subprocess.run([*ocicli, "--ca-file", str(tmp_path / "ca.pem"), "cluster-create", "cl1", "example.com"], env=client,
                                  capture_output=True, text=True, timeout=60)  # fmt: skip
            if done.returncode == 0 or "cannot reach" not in done.stderr or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert done.returncode == 0, done.stderr
        done = subprocess.run([*ocicli, "--json", "cluster-list"], env={**client, "OCI_CA_FILE": str(tmp_path / "ca.pem")},
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0 and '"cl1"' in done.stdout
        done = subprocess.run([*ocicli, "cluster-list"], env=client, capture_output=True, text=True, timeout=60)
        assert done.returncode == 1
        assert done.stderr.startswith("ocicli: error: cannot verify the API server 127.0.0.1")
        assert done.stderr.count("\n") == 1
        plain = subprocess.run([*ocicli, "--api-url", f"http://127.0.0.1:{port}", "cluster-list"], env=client, capture_output=True,
                               text=True, timeout=60)  # fmt: skip
        assert plain.returncode == 1  # plain HTTP to a TLS port gets nowhere, and says so in one line
        assert plain.stderr.count("\n") == 1
    finally:
        server.terminate()
        server.communicate(timeout=10)
