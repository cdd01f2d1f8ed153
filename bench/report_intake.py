"""Report intake through oci-api over HTTP: 1,000 distinct machines from 64 concurrent clients (goal:
>= 500 reports/s, 0 lost), then the same machines reporting again (the steady state every 30 s).

Clients are 4 processes x 16 threads, each thread with one keep-alive connection and its own loopback
source address; server and clients share the machine's 2 cores, so the figure is a lower bound.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, report_body, start_api

sys.path.insert(0, str(REPO / "lib"))
from oci.model import Machine
from oci.store import Store

PROCESSES, THREADS = 4, 16


def client_process(port: int, serials: list[tuple[int, str]], worker: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    bodies = [(json.dumps(report_body(serial, index)).encode(), serial) for index, serial in serials]
    failures: list[str] = []
    lock = threading.Lock()

    def run(thread: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(f"127.1.{worker}.{thread + 1}", 0))
        for body, serial in bodies[thread::THREADS]:
            try:
                conn.request("POST", "/api/v1/report", body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}")
            except Exception as exc:
                with lock:
                    failures.append(f"{serial}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()

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


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    machines = [(i, f"RPT{i:05d}") for i in range(count)]
    with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
        state = Path(tmp) / "state"
        server, port = start_api(state, threads=8)
        try:
            for label in ("first reports (new machines)", "steady state (same hardware)"):
                elapsed, failures = wave(port, machines)
                stored = len(Store(state).names(Machine))
                print(
                    f"report intake, {label}: {count} machines, {PROCESSES * THREADS} concurrent clients: "
                    f"{count / elapsed:.0f} reports/s ({elapsed:.2f} s), {len(failures)} failed, {count - stored} lost"
                )
                for failure in failures[:5]:
                    print(f"  failure: {failure}")
            beats = Store(state).heartbeats()
            assert all(b.reports == 2 for b in beats.values()), "a report was not counted"
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
