"""Issuing certificates for 1,000 machines (key and certificate, written to the state directory)."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import REPO

sys.path.insert(0, str(REPO / "lib"))
from oci.pki.authority import Authority
from oci.store import Store


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
        authority = Authority(Store(Path(tmp)))
        started = time.perf_counter()
        authority.init(now)
        init = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(count):
            authority.issue(f"cl1-compute-{i + 1}.example.com", [f"10.128.{i // 250}.{i % 250 + 2}"], now)
        elapsed = time.perf_counter() - started
    print(f"oci-pki: CA created in {init * 1000:.0f} ms; {count} machine certificates (EC P-256) in {elapsed:.2f} s, "
          f"{elapsed / count * 1000:.1f} ms each")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
