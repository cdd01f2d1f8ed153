"""The admin API: ``ocicli machine-list --json`` over HTTP at 5,000 machines (whole process; goal <= 0.5 s),
and requests/s of an authenticated read (``GET /api/v1/clusters``) from 32 concurrent clients."""

from __future__ import annotations

import http.client
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from common import REPO, build_state, start_api, summary, timed_runs

sys.path.insert(0, str(REPO / "lib"))
from oci.service import tokens


def reads_per_second(port: int, token: str, clients: int, per_client: int) -> tuple[float, int]:
    failures = []

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(per_client):
            conn.request("GET", "/api/v1/clusters", headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return clients * per_client / (time.perf_counter() - started), len(failures)


def main() -> int:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
        state = Path(tmp) / "state"
        store = build_state(state, size)
        token = tokens.create(store, "bench", datetime.now(UTC))
        server, port = start_api(state)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("OCI_")}
            env.update({"OCI_API_URL": f"http://127.0.0.1:{port}", "OCI_API_TOKEN": token})
            argv = [str(REPO / "bin" / "ocicli"), "machine-list", "--json"]
            first = timed_runs(argv, env, 1)[0]
            warm = timed_runs(argv, env, 7)
            print(f"machine-list --json over HTTP, {size} machines ({size // 2} enrolled): first {first:.3f} s; then {summary(warm)}")
            rate, failed = reads_per_second(port, token, clients=32, per_client=100)
            print(f"authenticated GET /api/v1/clusters, 32 concurrent clients x 100 requests: {rate:.0f} requests/s, {failed} failed")
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
