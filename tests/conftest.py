"""Shared fixtures: a temporary state directory and helpers that build state through the service layer."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from oci.config import Config
from oci.report import v1
from oci.run import stop
from oci.service import reports
from oci.store import Store
from puppetca import puppet_ca, puppet_ca_template  # noqa: F401 (fixtures shared by the tests that install)

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)

# No test may depend on the machine's speed (CI runs on a shared, loaded machine): property tests have no
# per-example deadline and no "too slow" health check. tests/test_speed_independence.py keeps it so.
settings.register_profile("oci", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("oci")
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(port: int, path: str, body: bytes, source: str = "127.0.0.1", headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    conn.request("POST", path, body=body, headers=headers or {"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, response.read()


@pytest.fixture(autouse=True)
def only_loopback_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to loopback and their own namespaces only: SSH to a node anywhere else (a machine's
    made-up 192.168.x address) is refused here, as if nothing answered there."""
    from oci import remote

    real_probe = remote.probe

    def guarded(address: str, port: int, timeout: float) -> None:
        if not IPv4Address(address).is_loopback:
            raise remote.NodeUnreachable(f"nothing answers on {address}:{port} (tests reach loopback only)")
        real_probe(address, port, timeout)

    monkeypatch.setattr(remote, "probe", guarded)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    root = tmp_path / "state"
    root.mkdir()
    # The operator's rule files of this machine, if it has any, never reach a test.
    config = Config(state_dir=root, hardware_profiles=tmp_path / "hardware-profiles.yaml", racking_rules=tmp_path / "racking.yaml")
    return Store(root, lock_timeout=10, config=config)


def report_body(serial: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": 1,
        "serial": serial,
        "system": {"manufacturer": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)", "uefi": False},
        "cpu": {"vendor": "GenuineIntel", "model": "QEMU Virtual CPU", "sockets": 1, "cores_per_socket": 2, "threads": 2},
        "memory": {"total_mb": 8192},
        "disks": [{"name": "vda", "size_bytes": 21474836480}],
        "nics": [{"name": "eth0", "mac": "52:54:00:12:34:56", "speed_mbps": 1000}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def discover(store: Store) -> Callable[..., dict[str, Any]]:
    """discover(serial, address=..., **report overrides): record a report as if the machine booted live."""

    def run(serial: str, address: str = "192.168.100.20", when: datetime = NOW, **overrides: Any) -> dict[str, Any]:
        parsed = v1.parse(report_body(serial, **overrides))
        return reports.record(store, parsed, IPv4Address(address), when)

    return run


def ssh_keygen(path: Path) -> str:
    """A new ed25519 key pair at ``path`` (and ``path``.pub, as ssh-keygen names it): the public key's line."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_name(path.name + ".pub").read_text().strip()


def state_files(store: Store, besides: tuple[str, ...] = ()) -> dict[Path, bytes]:
    """Every state file's content, except what reads and refusals may write (locks, caches, the audit log)
    and the top-level folders ``besides``: compared before and after, it shows a refusal changed nothing."""
    kept = (p for p in sorted(store.root.rglob("*")) if p.is_file() and p.name != "audit.log"
            and not {"locks", "cache", "index", *besides} & set(p.relative_to(store.root).parts[:-1]))  # fmt: skip
    return {p.relative_to(store.root): p.read_bytes() for p in kept}


def one_cluster(store: Store, subnet: str = "192.168.101.0", prefix: str = "24", vips: bool = False) -> Store:
    """Region r1, location loc1, cluster cl1 on network mgmt (every role's), and a vip network if asked."""
    from oci.service import clusters, networks, topology

    topology.region_create(store, "r1")
    topology.location_create(store, "loc1", "r1")
    networks.create(store, "mgmt", subnet, prefix, "loc1", "no")
    clusters.create(store, "cl1", "example.com")
    networks.add(store, "mgmt", "cl1", "all", "eth0")
    if vips:
        networks.create(store, "vip", "10.101.0.0", "24", "loc1", "no")
        networks.add(store, "vip", "cl1", "vip", "eth0")
    return store


@pytest.fixture
def site(store: Store, discover: Callable[..., dict[str, Any]]) -> Store:
    """A small site: cluster cl1 on net1 (a spare network besides), C1 enrolled as a controller, C2 live."""
    from oci.service import clusters, machines, networks, topology

    topology.region_create(store, "r1")
    topology.location_create(store, "loc1", "r1")
    networks.create(store, "net1", "192.168.101.0", "24", "loc1", "no")
    networks.create(store, "spare", "10.1.0.0", "24", "loc1", "no")  # no address on it: renumbering is allowed
    clusters.create(store, "cl1", "example.com")
    networks.add(store, "net1", "cl1", "all", "eth0")
    discover("C1")
    discover("C2", address="192.168.100.21")
    machines.add(store, "C1", "cl1", "controller", "loc1")
    return store


@pytest.fixture
def server(tmp_path: Path):
    """oci-api on a free loopback port with a fresh state directory: (port, environment, state dir)."""
    port = free_port()
    env = {**os.environ, "OCI_STATE_DIR": str(tmp_path / "state")}
    env.pop("OCI_CONFIG", None)
    proc = subprocess.Popen([str(REPO / "bin" / "oci-api"), "--listen", f"127.0.0.1:{port}"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"oci-api did not start: {proc.communicate()[1]}")
            time.sleep(0.05)
    yield port, env, tmp_path / "state"
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


class Recorder:
    """An install Reporter (oci.install.runner) that keeps what it was told, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def started(self, step: str) -> None:
        self.calls.append(("started", step))

    def ended(self, step: str, seconds: float) -> None:
        self.calls.append(("ended", step, seconds))

    def failed(self, step: str, error: str) -> None:
        self.calls.append(("failed", step, error))

    def finished(self) -> None:
        self.calls.append(("finished",))


stop_daemon = stop  # a daemon a test started: terminated, reaped, killed past the guard (oci.run.stop)
