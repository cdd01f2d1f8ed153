"""oci-api for real: waitress on a loopback port, reports over HTTP, then ocicli sees them."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
from pathlib import Path

from conftest import REPO, free_port, post, report_body


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
    # Announce 2 MiB and send nothing: the server must refuse from the header alone, before reading.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/report HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n")
        assert sock.recv(4096).split(b" ", 2)[1] == b"413"
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
