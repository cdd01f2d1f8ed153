"""``ocicli machine-list --json``, whole process, at 1,000 and 5,000 machines (goal: <= 0.5 s at 5,000).

Half the machines are enrolled in a cluster with an address. The first run after the machines were written
fills the listing cache (cold); the others are the steady state. Reports rewrite only the heartbeat files,
which are not cached, so this steady state holds while every machine reports every 30 s.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, build_state, summary, timed_runs


def main() -> int:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 5000]
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
            started = time.perf_counter()
            build_state(Path(tmp) / "state", size)
            setup = time.perf_counter() - started
            env = {**os.environ, "OCI_STATE_DIR": str(Path(tmp) / "state")}
            env.pop("OCI_CONFIG", None)
            argv = [str(REPO / "bin" / "ocicli"), "machine-list", "--json"]
            cold = timed_runs(argv, env, 1)[0]
            warm = timed_runs(argv, env, 7)
            table = timed_runs([str(REPO / "bin" / "ocicli"), "machine-list"], env, 3)
            print(f"machine-list --json, {size} machines ({size // 2} enrolled): cold cache {cold:.3f} s; warm {summary(warm)}")
            print(f"machine-list (table), {size} machines: {summary(table)}   [setup {setup:.1f} s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
