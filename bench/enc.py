"""The ENC: ``oci-enc`` whole process for clusters of 10 to 10,000 hosts (goal <= 20 ms and flat), and the
re-rendering after one machine-add in a 1,000-host cluster (goal <= 2 s)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path

from common import REPO, build_state, realistic_roles, report_body, summary, timed_runs

sys.path.insert(0, str(REPO / "lib"))
from oci.enc import refresh
from oci.report import v1
from oci.service import machines, reports


def main() -> int:
    sizes = [int(a) for a in sys.argv[1:]] or [10, 100, 1000, 10000]
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
            state = Path(tmp) / "state"
            store = build_state(state, size, enrolled_fraction=1.0, roles=realistic_roles)
            started = time.perf_counter()
            written = refresh.refresh(store, "cl1")["written"]
            full = time.perf_counter() - started
            env = {**os.environ, "OCI_STATE_DIR": str(state)}
            host = written[len(written) // 2]
            times = timed_runs([str(REPO / "bin" / "oci-enc"), host], env, 9)
            line = f"oci-enc, cluster of {size} hosts: {summary(times)} (full render of the cluster: {full:.2f} s)"
            if size == 1000:
                reports.record(store, v1.parse(report_body("NEWHOST", 99999)), IPv4Address("192.168.100.1"), datetime.now(UTC))
                started = time.perf_counter()
                machines.add(store, "NEWHOST", "cl1", "compute", "dc1")
                add = time.perf_counter() - started
                started = time.perf_counter()
                result = refresh.refresh(store, "cl1")
                noop = time.perf_counter() - started
                line += f"; machine-add with its re-render: {add:.2f} s (a refresh with nothing to change: {noop:.2f} s, "
                line += f"{result['unchanged']} files unchanged)"
            print(line)
    done = subprocess.run(
        [str(REPO / "bin" / "oci-enc"), "x.example.com"],
        capture_output=True,
        text=True,
        env={**os.environ, "OCI_STATE_DIR": "/nonexistent"},
        check=False,
    )
    assert done.returncode == 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
