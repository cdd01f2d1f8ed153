"""Helpers shared by the benchmarks: build a large state quickly, start oci-api, time a command."""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "lib"))

from oci import ipam  # noqa: E402
from oci.model import AllocationKind, Enrolment, Machine, Network  # noqa: E402
from oci.report import v1  # noqa: E402
from oci.service import clusters, networks, reports, topology  # noqa: E402
from oci.store import Store  # noqa: E402

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def report_body(serial: str, index: int) -> dict[str, object]:
    """A realistic report: 2 sockets, 8 disks, 4 NICs with LLDP neighbours."""
    return {
        "version": 1,
        "serial": serial,
        "system": {"manufacturer": "Dell Inc.", "product_name": "PowerEdge R640", "bios_version": "2.17.1", "uefi": True},
        "cpu": {
            "vendor": "GenuineIntel",
            "model": "Intel(R) Xeon(R) Gold 6230R CPU @ 2.10GHz",
            "sockets": 2,
            "cores_per_socket": 26,
            "threads": 104,
            "mhz": 2100,
        },  # fmt: skip
        "memory": {"total_mb": 393216, "dimm_type": "DDR4", "speed": "2933 MT/s"},
        "disks": [
            {"name": f"sd{chr(97 + d)}", "size_bytes": 960197124096, "model": "MZ7LH960HAJR0D3", "transport": "sata", "rotational": False}
            for d in range(8)
        ],  # fmt: skip
        "nics": [
            {
                "name": f"eno{n + 1}",
                "mac": f"24:6e:96:{index >> 8 & 255:02x}:{index & 255:02x}:{n:02x}",
                "speed_mbps": 25000,
                "driver": "i40e",
                "switch_name": f"tor-{index // 40}",
                "switch_port": f"Ethernet1/{n + 1}",
            }
            for n in range(4)
        ],  # fmt: skip
        "bmc": {"address": f"10.10.{index >> 8 & 255}.{index & 255}", "firmware": "5.00.10.20"},
    }


def discovered_site(root: Path, serials: list[str]) -> Store:
    """Cluster cl1 in location dc1 with a /16 management network and a public network, and ``serials``
    discovered (one report each)."""
    store = Store(root)
    topology.region_create(store, "r1")
    topology.location_create(store, "dc1", "r1")
    networks.create(store, "mgmt", "10.128.0.0", "16", "dc1", "no")
    networks.create(store, "pub", "203.0.113.0", "28", "dc1", "yes")
    clusters.create(store, "cl1", "example.com")
    networks.add(store, "mgmt", "cl1", "all", "eth0")
    networks.add(store, "pub", "cl1", "all", "eth0")
    for i, serial in enumerate(serials):
        reports.record(store, v1.parse(report_body(serial, i)), IPv4Address("192.168.100.1") + i % 250, NOW)
    return store


def mixed_roles(i: int) -> str:
    return ("compute", "cephosd", "controller")[i % 3]


def realistic_roles(i: int) -> str:
    """3 controllers, then one Ceph OSD node for nine computes."""
    return "controller" if i < 3 else ("cephosd" if i % 10 == 0 else "compute")


def build_state(root: Path, machines: int, enrolled_fraction: float = 0.5, roles: Callable[[int], str] = mixed_roles) -> Store:
    """``machines`` discovered machines, the given fraction enrolled in one cluster with addresses."""
    serials = [f"BENCH{i:05d}" for i in range(machines)]
    store = discovered_site(root, serials)
    # Enrol in bulk (the benchmark measures listing, not machine-add): one transaction.
    enrolled = serials[: int(machines * enrolled_fraction)]
    with store.topology_lock(), store.machine_lock(enrolled):
        network = store.get(Network, "mgmt")
        tx = store.transaction()
        for i, serial in enumerate(enrolled):
            role = roles(i)
            hostname = f"cl1-{role}-{i + 1}.example.com"
            tx.put(replace(store.get(Machine, serial), enrolment=Enrolment("cl1", role, "dc1", hostname)))
            network, _ = ipam.allocate(network, AllocationKind.MACHINE, serial, IPv4Address("10.128.0.2") + i)
        tx.put(network)
        tx.commit()
    return store


def timed_runs(argv: list[str], env: dict[str, str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        out.append(time.perf_counter() - started)
    return out


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f} s, min {min(values):.3f} s, max {max(values):.3f} s"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(state: Path, threads: int = 8) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "OCI_STATE_DIR": str(state)}
    env.pop("OCI_CONFIG", None)
    proc = subprocess.Popen([str(REPO / "bin" / "oci-api"), "--listen", f"127.0.0.1:{port}", "--threads", str(threads)], env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("oci-api did not start")
