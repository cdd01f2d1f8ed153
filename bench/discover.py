"""One full collection on this machine: ``oci-discover --print``, whole process (wall time), and the size of
the report it makes."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time

from common import REPO


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    times, sizes, body = [], [], {}
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([str(REPO / "bin" / "oci-discover"), "--print"], capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - started)
        body = json.loads(done.stdout)
        sizes.append(len(json.dumps(body).encode()))
    print(
        f"oci-discover --print, this machine ({len(body.get('disks', []))} disks, {len(body.get('nics', []))} NICs, "
        f"{len(body.get('errors', []))} failing tools): median {statistics.median(times):.2f} s over {runs} runs "
        f"(min {min(times):.2f}, max {max(times):.2f}); report {sizes[-1]} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
