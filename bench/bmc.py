"""``check-all-ipmi`` over 24 simulated BMCs (OpenIPMI's ipmi_sim on loopback): wall time, whole process."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path

from common import REPO, report_body

sys.path.insert(0, str(REPO / "lib"))
sys.path.insert(0, str(REPO / "tests" / "integration"))  # the simulated BMCs the tests use
from simbmc import simulated_bmcs

from oci.report import v1
from oci.service import bmcops, reports
from oci.store import Store


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
        root = Path(tmp)
        store = Store(root / "state")
        with simulated_bmcs(root / "bmcs", count) as bmcs:
            for i, (target, _) in enumerate(bmcs):
                serial = f"BMC{i:03d}"
                reports.record(store, v1.parse(report_body(serial, i)), IPv4Address("192.168.100.1"), datetime.now(UTC))
                bmcops.set_access(store, serial, "yes", target.address, target.port, target.user, target.password)
            env = {**os.environ, "OCI_STATE_DIR": str(store.root)}
            env.pop("OCI_API_URL", None)
            started = time.perf_counter()
            done = subprocess.run(
                [str(REPO / "bin" / "ocicli"), "--json", "check-all-ipmi"], env=env, capture_output=True, text=True, check=True
            )
            elapsed = time.perf_counter() - started
            reachable = done.stdout.count('"reachable": true') + done.stdout.count('"reachable":true')
            print(f"check-all-ipmi, {count} simulated BMCs, {store.config.bmc_concurrency} at a time: {elapsed:.2f} s whole process, "
                  f"{reachable} reachable")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
