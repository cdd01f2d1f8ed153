"""Report intake through oci-api over HTTP: 1,000 distinct machines from 64 concurrent clients (goal:
>= 500 reports/s, 0 lost), then the same machines reporting again (the steady state every 30 s). Then an
``ipmi`` network appears: the next wave numbers every BMC (an allocation per report, under the topology
lock), and the one after repeats the pending settings.

Clients are 4 processes x 16 threads sending prebuilt requests. Each machine posts from its own loopback
address, the same at every wave, like a node with its DHCP lease: the master binds a machine to its address
and numbers one BMC per source at a time (docs/security.md). So each request has its own connection. Server
and clients share the machine's 2 cores, so the figure is a lower bound.
"""

from __future__ import annotations

import json
import multiprocessing
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, report_body, start_api

sys.path.insert(0, str(REPO / "lib"))
from oci.model import Machine, Network
from oci.service import networks, topology
from oci.store import Store

PROCESSES, THREADS = 4, 16


def _request(body: bytes) -> bytes:
    head = f"POST /api/v1/report HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _read_response(sock: socket.socket, buffer: bytearray) -> int:
    """Read one HTTP/1.1 response with a Content-Length from a keep-alive socket; return its status."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed")
        buffer += chunk
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    total = len(head) + 4 + length
    while len(buffer) < total:
        buffer += sock.recv(65536)
    status = int(head.split(b" ", 2)[1])
    del buffer[:total]
    return status


def client_process(port: int, serials: list[tuple[int, str]], worker: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Simulated agents: a lean HTTP client (prebuilt requests), so the clients take as little as possible of
    the 2 cores the server runs on."""
    requests = [(_request(json.dumps(report_body(serial, index)).encode()), serial, index) for index, serial in serials]
    failures: list[str] = []
    lock = threading.Lock()

    def run(thread: int) -> None:
        for request, serial, index in requests[thread::THREADS]:
            try:
                source = f"127.1.{index // 250}.{index % 250 + 1}"  # the machine's own address
                with socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0)) as sock:
                    sock.sendall(request)
                    status = _read_response(sock, bytearray())
                if status != 200:
                    raise RuntimeError(f"HTTP {status}")
            except Exception as exc:
                with lock:
                    failures.append(f"{serial}: {exc}")

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(failures)


def wave(port: int, machines: list[tuple[int, str]]) -> tuple[float, list[str]]:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    procs = [multiprocessing.Process(target=client_process, args=(port, machines[p::PROCESSES], p, queue)) for p in range(PROCESSES)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    failures = [f for _ in procs for f in queue.get()]
    for p in procs:
        p.join()
    return time.perf_counter() - started, failures


def add_bmc_pool(store: Store) -> None:
    topology.region_create(store, "r1")
    topology.location_create(store, "dc1", "r1")
    networks.create(store, "bmcs", "10.200.0.0", "20", "dc1", "no")
    networks.set_(store, "bmcs", {"role": "ipmi", "ipmi_match": "127.0.0.0/8"})


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    machines = [(i, f"RPT{i:05d}") for i in range(count)]
    with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
        state = Path(tmp) / "state"
        server, port = start_api(state, threads=8)
        try:
            labels = ("first reports (new machines)", "steady state (same hardware)", "BMC numbering (one allocation each)",
                      "BMC settings pending (repeated)")  # fmt: skip
            for label in labels:
                if label.startswith("BMC numbering"):
                    add_bmc_pool(Store(state))
                elapsed, failures = wave(port, machines)
                stored = len(Store(state).names(Machine))
                print(
                    f"report intake, {label}: {count} machines, {PROCESSES * THREADS} concurrent clients: "
                    f"{count / elapsed:.0f} reports/s ({elapsed:.2f} s), {len(failures)} failed, {count - stored} lost"
                )
                for failure in failures[:5]:
                    print(f"  failure: {failure}")
            beats = Store(state).heartbeats()
            assert all(b.reports == len(labels) for b in beats.values()), "a report was not counted"
            numbered = Store(state).all(Network)[0].allocations
            assert len(numbered) == count, f"{len(numbered)} BMCs numbered for {count} machines"
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
