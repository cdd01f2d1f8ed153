"""Hostnames from never-decreasing per-(cluster, role) counters."""

from __future__ import annotations

import pytest

from oci.errors import InvalidInput
from oci.model import Cluster
from oci.naming import natural_key, next_hostname


def test_counter_starts_at_one_and_moves_on():
    cluster = Cluster("swift01", "example.com")
    name, cluster = next_hostname(cluster, "controller", set())
    assert name == "swift01-controller-1.example.com"
    name, cluster = next_hostname(cluster, "controller", {name})
    assert name == "swift01-controller-2.example.com"
    assert cluster.role_counters == {"controller": 2}


def test_a_name_taken_by_hand_is_skipped():
    cluster = Cluster("cl1", "example.com", role_counters={"compute": 11})
    name, cluster = next_hostname(cluster, "compute", {"cl1-compute-12.example.com"})
    assert name == "cl1-compute-13.example.com"
    assert cluster.role_counters["compute"] == 13


def test_too_long_label_is_refused():
    cluster = Cluster("c" * 40, "example.com")
    with pytest.raises(InvalidInput, match="longer than 63"):
        next_hostname(cluster, "r" * 30, set())


def test_natural_order():
    names = ["cl-compute-10", "cl-compute-2", "cl-compute-1"]
    assert sorted(names, key=natural_key) == ["cl-compute-1", "cl-compute-2", "cl-compute-10"]
