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

from common import REPO, free_port, report_body

sys.path.insert(0, str(REPO / "lib"))
from oci.report import v1
from oci.service import bmcops, reports
from oci.store import Store

DATA = REPO / "tests" / "data" / "ipmi"


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
        root = Path(tmp)
        store = Store(root / "state")
        sims = []
        try:
            for i in range(count):
                port = free_port()
                config = root / f"bmc{i}.conf"
                config.write_text(
                    f'name "bmc{i}"\nset_working_mc 0x20\n  startlan 1\n    addr 127.0.0.1 {port}\n    priv_limit admin\n'
                    "    allowed_auths_callback none md2 md5 straight\n    allowed_auths_user none md2 md5 straight\n"
                    "    allowed_auths_operator none md2 md5 straight\n    allowed_auths_admin none md2 md5 straight\n"
                    f"    guid a123456789abcdefa123456789ab{i:04x}\n  endlan\n"
                    f'  chassis_control "{DATA / "chassis-control"} {root / f"node{i}"}"\n'
                    '  user 2 true  "ipmiusr" "test" admin    10       none md2 md5 straight\n'
                )
                (root / f"persist{i}").mkdir()
                argv = ["ipmi_sim", "-n", "-c", str(config), "-f", str(DATA / "node.emu"), "-s", str(root / f"persist{i}")]
                sims.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL))
                serial = f"BMC{i:03d}"
                reports.record(store, v1.parse(report_body(serial, i)), IPv4Address("192.168.100.1"), datetime.now(UTC))
                bmcops.set_access(store, serial, "yes", "127.0.0.1", port, "ipmiusr", "test")
            time.sleep(0.5)
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
        finally:
            for sim in sims:
                sim.terminate()
                sim.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
