"""Address ranges and allocation (reference §5.2, §5.4)."""

from __future__ import annotations

from ipaddress import IPv4Address as A

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oci import ipam
from oci.errors import Conflict, InvalidInput
from oci.model import AllocationKind, Network


def net(address: str = "192.168.101.0", prefix: int = 24, **kw) -> Network:
    return Network("n1", A(address), prefix, "loc", False, **kw)


@pytest.mark.parametrize(
    ("address", "prefix", "first", "last", "gateway"),
    [
        ("192.168.101.0", 24, "192.168.101.2", "192.168.101.254", "192.168.101.1"),
        ("203.0.113.0", 28, "203.0.113.2", "203.0.113.14", "203.0.113.1"),
        ("10.0.0.0", 8, "10.0.0.2", "10.255.255.254", "10.0.0.1"),
        ("10.0.0.4", 30, "10.0.0.5", "10.0.0.6", "10.0.0.5"),
        ("10.0.0.4", 31, "10.0.0.4", "10.0.0.5", None),
        ("203.0.113.7", 32, "203.0.113.7", "203.0.113.7", None),
    ],
)
def test_ranges_follow_the_reference(address, prefix, first, last, gateway):
    n = net(address, prefix)
    assert ipam.usable_range(n) == (A(first), A(last))
    assert ipam.gateway(n) == (A(gateway) if gateway else None)


def test_capacity_matches_the_reference_counts():
    assert ipam.capacity(net(prefix=24)) == 253  # size - 3
    assert ipam.capacity(net("10.0.0.4", 30)) == 2
    assert ipam.capacity(net("10.0.0.4", 31)) == 2
    assert ipam.capacity(net("10.0.0.7", 32)) == 1


def test_lowest_free_fills_holes_first():
    n = net()
    for owner in ("a", "b", "c"):
        n, _ = ipam.allocate(n, AllocationKind.MACHINE, owner)
    n = ipam.release(n, AllocationKind.MACHINE, "b")
    n, got = ipam.allocate(n, AllocationKind.MACHINE, "d")
    assert got == A("192.168.101.3")


def test_full_network_says_so():
    n = net("10.0.0.4", 30)
    n, _ = ipam.allocate(n, AllocationKind.MACHINE, "a")
    n, _ = ipam.allocate(n, AllocationKind.MACHINE, "b")
    with pytest.raises(Conflict, match="no free address on network n1"):
        ipam.allocate(n, AllocationKind.MACHINE, "c")


def test_fixed_address_must_be_in_range_and_free():
    n = net()
    with pytest.raises(InvalidInput, match="outside the range"):
        ipam.allocate(n, AllocationKind.MACHINE, "a", A("192.168.101.1"))  # the gateway
    n, _ = ipam.allocate(n, AllocationKind.MACHINE, "a", A("192.168.101.50"))
    with pytest.raises(Conflict, match="already in use"):
        ipam.allocate(n, AllocationKind.MACHINE, "b", A("192.168.101.50"))


def test_narrowed_range_is_respected():
    n = net(range_first=A("192.168.101.100"), range_last=A("192.168.101.101"))
    n, a = ipam.allocate(n, AllocationKind.MACHINE, "a")
    n, b = ipam.allocate(n, AllocationKind.MACHINE, "b")
    assert (a, b) == (A("192.168.101.100"), A("192.168.101.101"))
    with pytest.raises(Conflict):
        ipam.allocate(n, AllocationKind.MACHINE, "c")


def test_range_must_fit_in_the_network():
    with pytest.raises(InvalidInput, match="does not fit"):
        ipam.check_range(net(), A("192.168.101.1"), A("192.168.101.10"))


@given(prefix=st.integers(min_value=24, max_value=32), count=st.integers(min_value=0, max_value=300))
def test_allocations_are_unique_and_in_range(prefix, count):
    n = net("172.16.0.0", prefix)
    first, last = ipam.usable_range(n)
    got = []
    for i in range(count):
        try:
            n, address = ipam.allocate(n, AllocationKind.MACHINE, f"m{i}")
        except Conflict:
            assert len(got) == ipam.capacity(n)
            break
        got.append(address)
    assert len(set(got)) == len(got)
    assert all(first <= a <= last for a in got)
