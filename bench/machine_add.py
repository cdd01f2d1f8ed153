"""``ocicli machine-add``: one after the other, and 16 at once, each a whole ocicli process; then
``machine-add-many`` of a rack of ``count`` machines in one call (one process, one lock, one ENC refresh).

For scale, the reference measured 1.1 machine-add/s and produced a duplicate hostname under 16 concurrent
adds; the concurrency test (tests/unit/test_concurrency.py) checks there is none here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import REPO, discovered_site


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
        state = Path(tmp) / "state"
        discovered_site(state, [f"ADD{i:05d}" for i in range(3 * count)])
        env = {**os.environ, "OCI_STATE_DIR": str(state)}
        env.pop("OCI_CONFIG", None)
        ocicli = str(REPO / "bin" / "ocicli")

        def add(i: int) -> None:
            role = ("compute", "controller", "cephosd")[i % 3]
            subprocess.run([ocicli, "machine-add", f"ADD{i:05d}", "cl1", role, "dc1"], env=env, check=True, stdout=subprocess.DEVNULL)

        started = time.perf_counter()
        for i in range(count):
            add(i)
        serial = time.perf_counter() - started
        started = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(add, range(count, 2 * count)))
        parallel = time.perf_counter() - started
        print(f"machine-add, {count} machines one after the other: {count / serial:.1f} adds/s ({serial / count * 1000:.0f} ms each)")
        print(f"machine-add, {count} more machines, 16 at once (cluster of {count}..{2 * count}): {count / parallel:.1f} adds/s")
        rack = Path(tmp) / "rack.txt"
        rack.write_text("".join(f"ADD{i:05d} cl1 {('compute', 'controller', 'cephosd')[i % 3]} dc1\n" for i in range(2 * count, 3 * count)))
        started = time.perf_counter()
        subprocess.run([ocicli, "machine-add-many", str(rack)], env=env, check=True, stdout=subprocess.DEVNULL)
        bulk = time.perf_counter() - started
        size = f"cluster of {2 * count}..{3 * count}"
        print(f"machine-add-many, {count} machines in one call ({size}): {count / bulk:.1f} adds/s ({bulk:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
