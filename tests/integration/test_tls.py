"""oci-api over HTTPS with a test certificate; ocicli verifies it against a CA file."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import select
import socket
import ssl
import subprocess
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import api_process
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


def tls_files(tmp_path):
    """A test CA (ca.pem) and a certificate for 127.0.0.1 (server.pem, server.key, EC P-256) in tmp_path;
    returns the options that make oci-api use them."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OCI test CA")])
    ca = certificate("OCI test CA", ca_key, ca_name, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate("127.0.0.1", ca_key, ca_name, key, ip="127.0.0.1")
    for name, obj in (("ca.pem", ca), ("server.pem", cert), ("server.key", key)):
        (tmp_path / name).write_bytes(pem(obj))
    return ["--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.key")]


def client_context(tmp_path):
    return ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))


def test_https_with_a_ca_file(tmp_path):
    tls_files(tmp_path)
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


def s_client(port, *options):
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *options], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30)  # fmt: skip


def test_only_aead_cipher_suites(tmp_path):
    with api_process.running(tmp_path, "", *tls_files(tmp_path), context=client_context(tmp_path)) as (_, port):
        for refused in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384"):
            done = s_client(port, "-tls1_2", "-cipher", refused)
            assert done.returncode != 0 and "Cipher is (NONE)" in done.stdout, (refused, done.stdout)
        for accepted in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"):
            done = s_client(port, "-tls1_2", "-cipher", accepted)
            assert done.returncode == 0 and f"Cipher is {accepted}" in done.stdout, (accepted, done.stdout)
        done = s_client(port, "-tls1_3")
        assert done.returncode == 0 and "TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384" in done.stdout, done.stdout
        assert s_client(port, "-tls1_1").returncode != 0


# The first bytes of a TLS ClientHello (a handshake record announcing 512 bytes), then nothing.
PARTIAL_HELLO = bytes.fromhex("16030102000100 01fc 0303")


def test_thousands_of_half_open_tls_connections_hold_no_threads(tmp_path):
    """Issue #14: 4,000 idle TLS connections made 3,740 threads (285 MB) and took 8 s to recover from."""
    options = tls_files(tmp_path)
    context = client_context(tmp_path)
    with api_process.running(tmp_path, "threads = 4\nmax_connections = 5000", *options, context=context) as (proc, port):
        sources = [f"127.0.2.{i}" for i in range(1, 126)]  # 125 sources x 32 (connections_per_source) = 4,000
        attack = api_process.connect_many(port, sources[::2], 32) + api_process.connect_many(port, sources[1::2], 32, PARTIAL_HELLO)
        try:
            deadline = time.monotonic() + api_process.GUARD
            while api_process.descriptors(proc.pid) < 4000:  # the server has accepted them all, and holds them
                assert time.monotonic() < deadline, api_process.descriptors(proc.pid)
                time.sleep(0.05)
            assert api_process.get(port, "/api/v1/health", context=context)[0] == 200  # a normal client is served
            assert api_process.threads(proc.pid) <= 4 + 2  # the workers and the I/O loop, whatever the connections
            assert api_process.still_open(attack) == 4000
            # A source over its limit is refused at once, before any handshake.
            extra = api_process.connect_many(port, ["127.0.3.1"], 40)
            assert api_process.wait_closed(extra, 8) == [b""] * 8
            assert api_process.still_open(extra) == 32
            for sock in extra:
                sock.close()
        finally:
            for sock in attack:
                sock.close()


def test_tls_connections_in_all_are_bounded(tmp_path):
    """At max_connections, no more are accepted (they wait in the kernel's queue) until one ends."""
    options = tls_files(tmp_path)
    context = client_context(tmp_path)
    with api_process.running(tmp_path, "max_connections = 50\nclient_timeout = 5", *options, context=context) as (_, port):
        attack = api_process.connect_many(port, ["127.0.4.1", "127.0.4.2"], 25, PARTIAL_HELLO)
        try:
            # Served once the attackers' handshakes time out (the timeout: a guard).
            assert api_process.get(port, "/api/v1/health", context=context)[0] == 200
            assert "50 connections open: not accepting more until one ends ([api] max_connections)" in api_process.server_log(tmp_path)
        finally:
            for sock in attack:
                sock.close()


def test_slow_tls_clients_are_timed_out(tmp_path):
    options = tls_files(tmp_path)
    context = client_context(tmp_path)
    with api_process.running(tmp_path, "client_timeout = 2", *options, context=context) as (_, port):
        # Connected, no handshake: closed.
        with socket.create_connection(("127.0.0.1", port), timeout=api_process.GUARD) as sock:
            assert sock.recv(4096) == b""
        # A handshake begun and left: closed.
        with socket.create_connection(("127.0.0.1", port), timeout=api_process.GUARD) as sock:
            sock.sendall(PARTIAL_HELLO)
            assert sock.recv(4096) == b""
        # Handshake done, the request trickled: closed before it is complete.
        with context.wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=api_process.GUARD), server_hostname="127.0.0.1"
        ) as tls:
            tls.sendall(b"POST /api/v1/report HTTP/1.1\r\nHost: oci\r\nContent-Length: 100000\r\n\r\n")
            sent, deadline = 0, time.monotonic() + 30
            while not select.select([tls], [], [], 0.2)[0]:
                assert time.monotonic() < deadline, "a trickling client kept its connection"
                tls.send(b" ")
                sent += 1
            with contextlib.suppress(ssl.SSLEOFError):  # (closed without a TLS close_notify: the same here)
                assert tls.recv(4096) == b""
            assert sent < 100000


def test_https_requests_are_marked_as_such(tmp_path):
    """Over HTTPS, admin tokens are accepted from anywhere: the server tells the application it is TLS."""
    token = tokens.create(Store(tmp_path / "state"), "ops", NOW)
    options = tls_files(tmp_path)
    context = client_context(tmp_path)
    with api_process.running(tmp_path, "plain_http_admin_networks = 127.0.0.1/32", *options, context=context) as (_, port):
        assert api_process.get(port, "/api/v1/clusters", source="127.0.0.2", token=token, context=context) == (
            200,
            b'{"data": [], "message": "ok", "status": "success"}',
        )


def tls_exchange(port, context, request):
    with context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=api_process.GUARD), server_hostname="127.0.0.1") as tls:
        tls.sendall(request)
        return tls.makefile("rb").read()


def test_bad_requests_over_https_are_one_line_errors(tmp_path):
    options = tls_files(tmp_path)
    context = client_context(tmp_path)
    with api_process.running(tmp_path, "", *options, context=context) as (_, port):
        cases = [
            (b"POST /api/v1/report HTTP/1.1\r\nHost: oci\r\nTransfer-Encoding: chunked\r\n\r\n", 411, "send a Content-Length"),
            (b"POST /api/v1/report HTTP/1.1\r\nHost: oci\r\nContent-Length: 2097152\r\n\r\n", 413, "2097152 bytes is larger than 1048576"),
            (b"POST /api/v1/report HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "invalid Content-Length"),
            (b"POST /api/v1/report HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "invalid Content-Length"),
            (b"HELLO\r\n\r\n", 400, "malformed request line"),
            (b"GET /api/v1/health HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431, "larger than 65536 bytes"),
        ]
        for request, status, message in cases:
            reply = tls_exchange(port, context, request)
            head, _, body = reply.partition(b"\r\n\r\n")
            assert head.split(b" ", 2)[1] == str(status).encode(), (request[:60], reply)
            assert message in json.loads(body)["message"] and body.count(b"\n") == 0
        # A header spelt with '_' cannot pass for one with '-' (X_Forwarded_For for X-Forwarded-For).
        reply = tls_exchange(port, context, b"GET /api/v1/health HTTP/1.1\r\nHost: oci\r\nX_Anything: 1\r\n\r\n")
        assert reply.startswith(b"HTTP/1.0 200 OK\r\n")
