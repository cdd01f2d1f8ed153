"""Shared fixtures: a temporary state directory and helpers that build state through the service layer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest

from oci.report import v1
from oci.service import reports
from oci.store import Store

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path: Path) -> Store:
    root = tmp_path / "state"
    root.mkdir()
    return Store(root, lock_timeout=10)


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
