"""Latency of a normal request while oci-api is under the connection attacks of issue #14 (goal: < 1 s).

Plain HTTP: ATTACKERS x 1,000 connections from one address each, every one holding a partial POST. HTTPS:
4,000 half-open connections (half silent, half with a ClientHello begun) from 125 addresses. For each,
the figure is the latency of ``GET /api/v1/health`` from another address (a new connection each time,
TLS handshake included), before and under the attack, with the server's threads and resident memory.
Clients and server share the machine's cores, so the figures are upper bounds.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import ipaddress
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from common import REPO, free_port

PARTIAL_REPORT = b'POST /api/v1/report HTTP/1.1\r\nHost: oci\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"version"'
PARTIAL_HELLO = bytes.fromhex("1603010200010001fc0303")
SAMPLES = 20


def self_signed(directory: Path) -> list[str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (directory / "api.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "api.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ["--tls-cert", str(directory / "api.pem"), "--tls-key", str(directory / "api.key")]


@contextlib.contextmanager
def api(directory: Path, settings: str, *args: str, context: ssl.SSLContext | None) -> Iterator[tuple[int, int]]:
    port = free_port()
    conf = directory / "oci.conf"
    conf.write_text(f"[state]\ndir = {directory / 'state'}\n[api]\nlisten = 127.0.0.1:{port}\n{settings}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCI_")}
    proc = subprocess.Popen([str(REPO / "bin" / "oci-api"), *args], env={**env, "OCI_CONFIG": str(conf)})
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health(port, context)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("oci-api did not start") from None
                time.sleep(0.05)
        yield proc.pid, port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def health(port: int, context: ssl.SSLContext | None) -> float:
    started = time.perf_counter()
    conn = (
        http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=context)
        if context
        else http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    )
    conn.request("GET", "/api/v1/health")
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise SystemExit(f"health: HTTP {response.status}")
    return time.perf_counter() - started


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def process(pid: int) -> str:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return f"{fields['Threads'].strip()} threads, {int(fields['VmRSS'].split()[0]) // 1024} MB resident"


def attack(port: int, sources: list[str], each: int, first_bytes: bytes) -> list[socket.socket]:
    out = []
    for source in sources:
        for _ in range(each):
            sock = socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0))
            if first_bytes:
                with contextlib.suppress(OSError):  # (refused and closed already)
                    sock.sendall(first_bytes)
            out.append(sock)
    return out


Attack = tuple[list[str], int, bytes]  # addresses, connections from each, what each sends first


def measure(label: str, pid: int, port: int, context: ssl.SSLContext | None, attacks: list[Attack]) -> None:
    calm = [health(port, context) for _ in range(SAMPLES)]
    socks = [sock for sources, each, first in attacks for sock in attack(port, sources, each, first)]
    sources = {source for addresses, _, _ in attacks for source in addresses}
    try:
        time.sleep(1)  # (a benchmark, not a test: let the server take in the last connections)
        loaded = [health(port, context) for _ in range(SAMPLES)]
        print(
            f"{label}: {len(socks)} attacking connections from {len(sources)} address(es); GET /api/v1/health from another "
            f"address: median {ms(statistics.median(calm))} before; under attack median {ms(statistics.median(loaded))}, "
            f"max {ms(max(loaded))} ({SAMPLES} requests); server: {process(pid)}"
        )
    finally:
        for sock in socks:
            sock.close()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
        directory = Path(tmp)
        with api(directory, "threads = 8", context=None) as (pid, port):
            measure("plain HTTP, partial POSTs", pid, port, None, [(["127.0.0.2"], 1000, PARTIAL_REPORT)])
        options = self_signed(directory)
        context = ssl.create_default_context(cafile=str(directory / "api.pem"))
        with api(directory, "threads = 8\nmax_connections = 5000", *options, context=context) as (pid, port):
            sources = [f"127.0.2.{i}" for i in range(1, 126)]  # 125 x 32 (connections_per_source) = 4,000
            measure("HTTPS, half-open connections", pid, port, context, [(sources[::2], 32, b""), (sources[1::2], 32, PARTIAL_HELLO)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
