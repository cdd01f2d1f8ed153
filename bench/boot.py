"""``GET /boot/ipxe`` in the long-lived API process, at 1,000, 5,000 and 10,000 known machines: a machine found
by its serial (its file), by a MAC only (an entry of the MAC index, then its file), and an unknown machine (a
missing index entry, then the address index, then the live image). A rack powering on asks once per machine;
the cost must not grow with the fleet.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from common import build_state
from oci.api import make_app
from oci.config import Config
from oci.store import Store


def ask(app, query: str) -> bytes:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/boot/ipxe", "QUERY_STRING": query, "REMOTE_ADDR": "192.168.100.77",
               "SERVER_NAME": "bench", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO()}  # fmt: skip
    status = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    assert status[0].startswith("200"), (status, body)
    return body


def main() -> int:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 5000, 10000]
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="oci-bench-") as tmp:
            state = Path(tmp) / "state"
            build_state(state, size)
            cfg = replace(Config(), state_dir=state, provisioning_network=IPv4Network("192.168.100.0/24"),
                          master_address=IPv4Address("192.168.100.2"))  # fmt: skip
            app = make_app(Store(state, config=cfg))
            last = size - 1  # the last machine: at the end of what a scan would read
            cases = (("by serial", f"mac=00:00:00:00:00:00&serial=BENCH{last:05d}"),
                     ("by MAC", f"mac=24:6e:96:{last >> 8 & 255:02x}:{last & 255:02x}:01&serial="),
                     ("unknown", "mac=52:54:00:ff:ff:ff&serial=NOPE"))  # fmt: skip
            ask(app, cases[2][1])  # build the indexes (once per state directory) and warm the decoded-file cache
            figures = []
            for label, query in cases:
                runs = 20
                started = time.perf_counter()
                for _ in range(runs):
                    ask(app, query)
                figures.append(f"{label} {1000 * (time.perf_counter() - started) / runs:.1f} ms")
            print(f"GET /boot/ipxe, {size} machines: " + ", ".join(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
