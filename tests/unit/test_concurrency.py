"""16 processes enrol machines and send reports at once: nothing lost, nothing shared, everything parses."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from conftest import REPO
from oci.model import Machine, Network
from oci.service import clusters, networks, topology
from oci.service.views import machine_views
from oci.store import files

WORKERS = 16
PER_WORKER = 4
ROLES = ("compute", "controller", "swiftstore")

WORKER = """
import sys
sys.path.insert(0, {lib!r})
from datetime import datetime, timezone
from ipaddress import IPv4Address
from pathlib import Path
from oci.cli.main import main
from oci.report import v1
from oci.service import reports
from oci.store import Store

store = Store(Path({root!r}), lock_timeout=120)
worker, workers, per = {worker}, {workers}, {per}
mine = [f"W{{worker:02d}}M{{i}}" for i in range(per)]
others = [f"W{{w:02d}}M{{i}}" for w in range(workers) for i in range(per) if w != worker]

def report(serial, n):
    body = {{"version": 1, "serial": serial, "memory": {{"total_mb": 4096 + n}},
             "nics": [{{"name": "eth0", "mac": "52:54:00:00:%02x:%02x" % (worker, n % 256)}}]}}
    reports.record(store, v1.parse(body), IPv4Address("192.168.100.%d" % (1 + worker)), datetime.now(timezone.utc))

for serial in mine:
    report(serial, 0)
for i, serial in enumerate(mine):
    role = {roles!r}[(worker + i) % len({roles!r})]
    code = main(["machine-add", serial, "cl1", role, "loc1"], store_factory=lambda: store)
    assert code == 0, code
    for other in others[i::per][:8]:  # reports of other machines, racing with their enrolment
        try:
            report(other, i + 1)
        except Exception as exc:
            raise SystemExit(f"report failed: {{exc}}")
"""


def test_sixteen_processes_at_once(store):
    topology.region_create(store, "r1")
    topology.location_create(store, "loc1", "r1")
    networks.create(store, "net1", "10.0.0.0", "24", "loc1", "no")
    networks.create(store, "pub", "203.0.113.0", "28", "loc1", "yes")
    clusters.create(store, "cl1", "example.com")
    networks.add(store, "net1", "cl1", "all", "eth0")
    networks.add(store, "pub", "cl1", "all", "eth0")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER.format(lib=str(REPO / "lib"), root=str(store.root), worker=w, workers=WORKERS, per=PER_WORKER, roles=ROLES),
            ],  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err

    total = WORKERS * PER_WORKER
    every = store.all(Machine)  # every file parses, through the strict loader
    assert len(every) == total
    assert all(m.enrolment is not None for m in every), "a machine-add was lost"
    hostnames = Counter(m.enrolment.hostname for m in every)
    assert max(hostnames.values()) == 1, "duplicate hostname"
    per_role = Counter(m.enrolment.role for m in every)
    for role, count in per_role.items():  # counters moved exactly once per machine-add
        numbers = sorted(int(m.enrolment.hostname.split(".")[0].rsplit("-", 1)[1]) for m in every if m.enrolment.role == role)
        assert numbers == list(range(1, count + 1))
    addresses = [a.address for n in store.all(Network) for a in n.allocations]
    assert len(addresses) == len(set(addresses)) == total + 1  # + the API VIP
    owners = {a.owner for a in store.get(Network, "net1").allocations}
    assert owners == {m.serial for m in every}
    assert all(store.heartbeat(m.serial).reports >= 1 for m in every)
    # every report counted: one per machine, then 8 per machine-add, of machines enrolled by others
    assert sum(store.heartbeat(m.serial).reports for m in every) == total + WORKERS * PER_WORKER * 8
    for path in store.root.rglob("*.yaml"):
        files.load_yaml(path.read_bytes())
    assert not (store.root / "journal.yaml").exists()
    assert {v["hostname"] for v in machine_views(store).values()} == set(hostnames)
    assert clusters.check(store, "cl1") == []
