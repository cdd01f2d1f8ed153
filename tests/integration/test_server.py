"""oci-api for real: waitress on a loopback port, reports over HTTP, then ocicli sees them."""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import subprocess
import time
from pathlib import Path

import api_process
from conftest import NOW, REPO, free_port, post, report_body
from oci.api import MAX_BODY_BYTES, MAX_LARGE_BODY_BYTES
from oci.service import tokens
from oci.store import Store


def test_reports_over_http_then_ocicli(server):
    port, env, state = server
    for i in range(3):
        status, payload = post(port, "/api/v1/report", json.dumps(report_body(f"C{i + 1}")).encode(), source=f"127.0.100.{20 + i}")
        assert status == 200, payload
    done = subprocess.run([str(REPO / "bin" / "ocicli"), "machine-list", "--json"], env=env, capture_output=True, text=True, check=True)
    rows = json.loads(done.stdout)
    assert [(r["serial"], r["ip"], r["status"]) for r in rows] == [
        ("C1", "127.0.100.20", "live"), ("C2", "127.0.100.21", "live"), ("C3", "127.0.100.22", "live")]  # fmt: skip


def test_oversized_and_chunked_bodies(server):
    port, _, state = server
    # Announce more than the largest body any route takes (Puppet's reports, 16 MiB) and send nothing: the
    # server must refuse from the header alone, before reading.
    announced = MAX_LARGE_BODY_BYTES + 1
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = f"POST /api/v1/report HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {announced}\r\n\r\n"
        sock.sendall(head.encode())
        assert sock.recv(4096).split(b" ", 2)[1] == b"413"
    # Above a JSON route's own limit (1 MiB) but within the server's: the route refuses it.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/api/v1/report", body=b" " * (MAX_BODY_BYTES + 1), headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    assert response.status == 413, response.read()
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/api/v1/report", body=iter([json.dumps(report_body("C9")).encode()]),
                 headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, encode_chunked=True)  # fmt: skip
    response = conn.getresponse()
    assert response.status == 200, response.read()
    assert (Path(state) / "machines" / "C9.yaml").exists()


def test_bad_listen_address_is_one_line(tmp_path):
    done = subprocess.run([str(REPO / "bin" / "oci-api"), "--listen", "nowhere"], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "OCI_STATE_DIR": str(tmp_path)})  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("oci-api: error: invalid listen address 'nowhere'")


def test_listen_address_from_the_configuration_file(tmp_path):
    port = free_port()
    conf = tmp_path / "oci.conf"
    conf.write_text(f"[state]\ndir = {tmp_path / 'state'}\n[api]\nlisten = 127.0.0.1:{port}\nthreads = 2\n")
    env = {**os.environ, "OCI_CONFIG": str(conf)}
    env.pop("OCI_STATE_DIR", None)
    proc = subprocess.Popen([str(REPO / "bin" / "oci-api")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, _ = post(port, "/api/v1/report", json.dumps(report_body("C1")).encode())
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "oci-api did not listen where configured"
                time.sleep(0.05)
        assert status == 200
        assert (tmp_path / "state" / "machines" / "C1.yaml").exists()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


PARTIAL_REPORT = b'POST /api/v1/report HTTP/1.1\r\nHost: oci\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"version"'


def test_a_thousand_idle_partial_posts_from_one_source_leave_others_served(tmp_path):
    """Issue #14: 1,000 connections holding a partial POST made waitress stop accepting anyone."""
    with api_process.running(tmp_path, "threads = 4") as (proc, port):
        attack = api_process.connect_many(port, ["127.0.0.2"], 1000, PARTIAL_REPORT)
        try:
            assert api_process.get(port, "/api/v1/health")[0] == 200  # a normal client is served (timeout: a guard)
            # The server holds 32 (connections_per_source) of the attacker's connections and refuses the rest
            # at once, saying why when the reply can be read.
            refused = api_process.wait_closed(attack, 1000 - 32)
            assert api_process.still_open(attack) == 32
            assert any(r.startswith(b"HTTP/1.1 429 ") and b"too many connections from 127.0.0.2 (at most 32 at once)" in r for r in refused)
            assert api_process.threads(proc.pid) <= 4 + 2  # the workers, the I/O loop (and no more under attack)
            assert api_process.get(port, "/api/v1/health", source="127.0.0.3")[0] == 200
        finally:
            for sock in attack:
                sock.close()
        # The attacker's slots are free again once its connections are gone.
        deadline = time.monotonic() + api_process.GUARD
        while api_process.get(port, "/api/v1/health", source="127.0.0.2")[0] != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_connections_in_all_are_bounded(tmp_path):
    """At max_connections, no more are accepted (they wait in the kernel's queue) until one ends."""
    with api_process.running(tmp_path, "max_connections = 50\nclient_timeout = 3") as (_, port):
        attack = api_process.connect_many(port, ["127.0.0.2", "127.0.0.3"], 25, PARTIAL_REPORT)
        try:
            # Served once the attackers' requests time out (the timeout: a guard).
            assert api_process.get(port, "/api/v1/health")[0] == 200
            assert "total open connections reached the connection limit" in api_process.server_log(tmp_path)
        finally:
            for sock in attack:
                sock.close()


def test_slow_clients_are_timed_out(tmp_path):
    with api_process.running(tmp_path, "client_timeout = 2") as (_, port):
        # Headers begun, then nothing: closed without a reply.
        with socket.create_connection(("127.0.0.1", port), timeout=api_process.GUARD) as sock:
            sock.sendall(b"POST /api/v1/report HTTP/1.1\r\nHost: oci\r\n")
            assert sock.recv(4096) == b""
        # A body trickled a byte at a time: every byte is activity, but the whole request has a deadline.
        with socket.create_connection(("127.0.0.1", port), timeout=api_process.GUARD) as sock:
            sock.sendall(PARTIAL_REPORT.replace(b"4096", b"100000"))
            sent, deadline = 0, time.monotonic() + 30
            while not select.select([sock], [], [], 0.2)[0]:  # paces the trickle, and sees the close at once
                assert time.monotonic() < deadline, "a trickling client kept its connection"
                sock.send(b" ")
                sent += 1
            assert sock.recv(4096) == b"" and sent < 100000
        # A kept-alive connection left idle after its request is closed too.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=api_process.GUARD)
        conn.request("GET", "/api/v1/health")
        assert conn.getresponse().read()
        assert conn.sock.recv(4096) == b""
        conn.close()


def test_admin_tokens_over_plain_http_only_from_configured_networks(tmp_path):
    token = tokens.create(Store(tmp_path / "state"), "ops", NOW)
    with api_process.running(tmp_path, "plain_http_admin_networks = 127.0.0.1/32") as (_, port):
        assert api_process.get(port, "/api/v1/clusters", token=token)[0] == 200
        status, body = api_process.get(port, "/api/v1/clusters", source="127.0.0.2", token=token)
        assert status == 403
        assert json.loads(body)["message"] == "admin requests over plain HTTP are accepted only from 127.0.0.1/32: use HTTPS"
