"""The PKI with the real tools: openssl verify, TLS handshakes (mutual too), expiry and revocation."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from datetime import timedelta

import pytest

from conftest import NOW, REPO
from oci.pki import x509 as build
from oci.pki.authority import Authority, Settings
from oci.service import clusters, machines, networks, topology


def openssl_verify(store, fqdn, *extra, at=NOW):
    pki = store.root / "pki"
    # At the time the certificates and the CRL were made (the tests' NOW, unless the operation issued them
    # now): the CRL's next update is days after it, so today's date would fail once those days have passed.
    when = ["-attime", str(int(at.timestamp()))] if at is not None else []
    argv = ["openssl", "verify", *when, *extra, "-CAfile", str(pki / "ca-chain.pem"), str(pki / "certs" / fqdn / "cert.pem")]
    return subprocess.run(argv, capture_output=True, text=True)


@pytest.fixture
def authority(store):
    pki = Authority(store)
    pki.init(NOW)
    return pki


@pytest.mark.parametrize("key_type", ["ec-p256", "rsa-2048"])
def test_issued_certificates_verify_with_openssl(store, authority, key_type):
    authority.issue("node1.example.com", ["192.168.101.2", "fd00::2"], NOW, key_type=key_type)
    authority.issue("client.example.com", [], NOW, client_only=True)
    for fqdn in ("node1.example.com", "client.example.com"):
        done = openssl_verify(store, fqdn)
        assert done.returncode == 0, done.stdout + done.stderr
    text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", str(store.root / "pki/certs/node1.example.com/cert.pem")],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "DNS:node1.example.com, IP Address:192.168.101.2, IP Address:FD00:0:0:0:0:0:0:2" in text
    assert "TLS Web Server Authentication, TLS Web Client Authentication" in text


def test_init_is_idempotent_and_keys_are_private(store, authority):
    root = (store.root / "pki" / "root.pem").read_bytes()
    assert authority.init(NOW)["created"] == []
    assert (store.root / "pki" / "root.pem").read_bytes() == root
    authority.issue("node1.example.com", [], NOW)
    for key in (store.root / "pki").rglob("*.key"):
        assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert oct((store.root / "pki/certs/node1.example.com/key.pem").stat().st_mode & 0o777) == "0o600"


def test_expired_and_revoked_certificates_are_refused_by_openssl(store, authority):
    old = Authority(store, Settings(leaf_days=1))
    old.issue("old.example.com", [], NOW - timedelta(days=10))
    done = openssl_verify(store, "old.example.com")
    assert done.returncode != 0 and "certificate has expired" in done.stdout + done.stderr
    authority.issue("gone.example.com", [], NOW)
    assert openssl_verify(store, "gone.example.com", "-crl_check", "-CRLfile", str(store.root / "pki/crl.pem")).returncode == 0
    authority.revoke("gone.example.com", NOW)
    done = openssl_verify(store, "gone.example.com", "-crl_check", "-CRLfile", str(store.root / "pki/crl.pem"))
    assert done.returncode != 0 and "certificate revoked" in done.stdout + done.stderr
    assert authority.describe("gone.example.com", NOW)["revoked"] is True


def handshake(server_context, client_context, hostname):
    """One TLS connection on loopback; returns (client error, server error, peer certificate seen by the server)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    outcome = {}

    def serve():
        conn, _ = listener.accept()
        try:
            with server_context.wrap_socket(conn, server_side=True) as tls:
                outcome["peer"] = tls.getpeercert()
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError) as exc:
            outcome["server_error"] = exc

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client_context.wrap_socket(raw, server_hostname=hostname) as tls,
        ):
            assert tls.recv(2) == b"ok"
    except (ssl.SSLError, OSError) as exc:
        outcome["client_error"] = exc
    thread.join(timeout=10)
    listener.close()
    return outcome.get("client_error"), outcome.get("server_error"), outcome.get("peer")


def test_tls_between_nodes_trusting_only_the_root(store, authority):
    pki = store.root / "pki"
    authority.issue("node1.example.com", ["127.0.0.1"], NOW)
    authority.issue("node2.example.com", [], NOW)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki / "certs/node1.example.com/chain.pem", pki / "certs/node1.example.com/key.pem")
    client = ssl.create_default_context(cafile=str(pki / "root.pem"))  # the root only: the server sends the intermediate
    assert handshake(server, client, "node1.example.com")[:2] == (None, None)
    assert isinstance(handshake(server, client, "other.example.com")[0], ssl.SSLCertVerificationError)

    server.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: node2 proves who it is
    server.load_verify_locations(pki / "root.pem")
    client.load_cert_chain(pki / "certs/node2.example.com/chain.pem", pki / "certs/node2.example.com/key.pem")
    client_error, server_error, peer = handshake(server, client, "node1.example.com")
    assert (client_error, server_error) == (None, None)
    assert dict(x[0] for x in peer["subject"])["commonName"] == "node2.example.com"
    anonymous = ssl.create_default_context(cafile=str(pki / "root.pem"))
    client_error, server_error, _ = handshake(server, anonymous, "node1.example.com")
    assert server_error is not None or client_error is not None


def test_the_workflow_issues_what_it_needs(store, discover):
    topology.region_create(store, "r1")
    topology.location_create(store, "loc1", "r1")
    networks.create(store, "net1", "192.168.101.0", "24", "loc1", "no")
    clusters.create(store, "cl1", "example.com")
    networks.add(store, "net1", "cl1", "all", "eth0")
    pki = Authority(store)
    assert pki.describe("cl1-api.example.com", NOW)["dns_names"] == ["cl1-api.example.com"]
    discover("C1")
    machines.add(store, "C1", "cl1", "controller", "loc1")
    shown = pki.describe("cl1-controller-1.example.com", NOW)
    assert (shown["dns_names"], shown["ips"]) == (["cl1-controller-1.example.com"], ["192.168.101.2"])
    assert openssl_verify(store, "cl1-controller-1.example.com", at=None).returncode == 0  # issued by machine-add, now
    machines.set_(store, "C1", {}, [], hostname="api1.example.com")
    assert pki.describe("api1.example.com", NOW)["ips"] == ["192.168.101.2"]
    assert pki.describe("cl1-controller-1.example.com", NOW)["revoked"] is True
    clusters.set_(store, "cl1", {"vip_hostname": "cloud.example.com"}, [])
    assert pki.has("cloud.example.com")


def test_an_installed_certificate_from_another_ca_is_kept(store, authority, tmp_path):
    other_key = build.new_key("ec-p256")
    other_ca = build.ca_certificate(other_key, "Public CA", "Elsewhere", NOW, 30)
    key = build.new_key("ec-p256")
    request = build.LeafRequest("cloud.example.com", ("cloud.example.com",), (), server=True, client=False)
    cert = build.leaf_certificate(request, key, (other_ca, other_key), "Elsewhere", NOW, 30)
    authority.install("cloud.example.com", build.cert_pem(cert), build.key_pem(key), build.cert_pem(other_ca))
    authority.ensure("cloud.example.com", [], NOW)
    assert authority.describe("cloud.example.com", NOW)["external"] is True
    assert (store.root / "pki/certs/cloud.example.com/cert.pem").read_bytes() == build.cert_pem(cert)
    with pytest.raises(Exception, match="does not belong"):
        authority.install("cloud.example.com", build.cert_pem(cert), build.key_pem(build.new_key("ec-p256")))


def test_oci_pki_command(tmp_path):
    import json
    import os

    env = {**os.environ, "OCI_STATE_DIR": str(tmp_path / "state")}
    env.pop("OCI_CONFIG", None)
    pki = [str(REPO / "bin" / "oci-pki")]
    assert subprocess.run([*pki, "init"], env=env, capture_output=True, text=True).returncode == 0
    issued = json.loads(subprocess.run([*pki, "--json", "issue", "n1.example.com", "--ip", "10.0.0.5"], env=env, capture_output=True,
                                       text=True, check=True).stdout)  # fmt: skip
    assert set(issued) == {"key", "cert", "chain"}
    listed = json.loads(subprocess.run([*pki, "--json", "list"], env=env, capture_output=True, text=True, check=True).stdout)
    assert listed[0]["name"] == "n1.example.com" and listed[0]["days_left"] >= 824
    assert "PRIVATE KEY" not in json.dumps(listed)
    bad = subprocess.run([*pki, "issue", "../etc"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stderr.startswith("oci-pki: error: invalid certificate name")
    installed = subprocess.run([*pki, "install", "api.example.com", "--cert", issued["cert"], "--key", issued["key"]], env=env,
                               capture_output=True, text=True)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    # Through the operations table: every change in the audit log (listings are not changes), no private key.
    log = (tmp_path / "state" / "audit.log").read_text()
    audit = [json.loads(line) for line in log.splitlines()]
    assert [(a["operation"], a["outcome"].split(":")[0]) for a in audit] == [
        ("pki_init", "ok"), ("pki_issue", "ok"), ("pki_issue", "refused"), ("pki_install", "ok")
    ]  # fmt: skip
    assert audit[1]["params"] == {"fqdn": "n1.example.com", "ip": ["10.0.0.5"], "client": False}
    assert audit[3]["params"]["key"] == "***" and "PRIVATE KEY" not in log


def test_settings_of_init_are_kept_for_every_later_issue(store):
    Authority(store, Settings(key_type="rsa-2048", leaf_days=90)).init(NOW)
    Authority(store).issue("n1.example.com", [], NOW)  # as machine-add does, without settings
    shown = Authority(store).describe("n1.example.com", NOW)
    assert shown["days_left"] in (89, 90)
    text = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", shown["cert"]], capture_output=True, text=True, check=True).stdout
    assert "Public-Key: (2048 bit)" in text
