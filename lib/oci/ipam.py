"""Address ranges and allocation: pure functions over networks.

Ranges follow the reference (§5.2): the gateway is network+1 and the broadcast address is excluded, so the
usable range is network+2 .. broadcast-1; /30, /31 and /32 are special cases. ``network-set --first-ip
--last-ip`` narrows the range.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from ipaddress import IPv4Address

from oci.errors import Conflict, InvalidInput
from oci.model import Allocation, AllocationKind, Network


def default_range(address: IPv4Address, prefix: int) -> tuple[IPv4Address, IPv4Address]:
    base = int(address)
    size = 1 << (32 - prefix)
    if prefix == 32:
        return address, address
    if prefix == 31:
        return address, IPv4Address(base + 1)
    if prefix == 30:
        return IPv4Address(base + 1), IPv4Address(base + 2)
    return IPv4Address(base + 2), IPv4Address(base + size - 2)


def usable_range(network: Network) -> tuple[IPv4Address, IPv4Address]:
    if network.range_first is not None and network.range_last is not None:
        return network.range_first, network.range_last
    return default_range(network.address, network.prefix)


def gateway(network: Network) -> IPv4Address | None:
    """network+1, except on /31 and /32 networks, which have no room for one."""
    if network.prefix >= 31:
        return None
    return IPv4Address(int(network.address) + 1)


def capacity(network: Network) -> int:
    first, last = usable_range(network)
    return int(last) - int(first) + 1


def check_range(network: Network, first: IPv4Address, last: IPv4Address) -> None:
    lo, hi = default_range(network.address, network.prefix)
    if not (lo <= first <= last <= hi):
        raise InvalidInput(
            f"range {first}-{last} does not fit in network {network.name}",
            hint=f"the first and last addresses must satisfy {lo} <= first <= last <= {hi}",
        )


def used(network: Network) -> set[IPv4Address]:
    return {a.address for a in network.allocations}


def lowest_free(network: Network, taken: Iterable[IPv4Address] = ()) -> IPv4Address:
    """The lowest address of the range that is neither allocated on the network nor in ``taken``."""
    busy = used(network) | set(taken)
    first, last = usable_range(network)
    for value in range(int(first), int(last) + 1):
        candidate = IPv4Address(value)
        if candidate not in busy:
            return candidate
    raise Conflict(
        f"no free address on network {network.name} ({first}-{last}, {len(used(network))} in use)",
        hint="widen the range with network-set, or attach another network",
    )


def check_fixed(network: Network, address: IPv4Address) -> None:
    first, last = usable_range(network)
    if not first <= address <= last:
        raise InvalidInput(f"{address} is outside the range {first}-{last} of network {network.name}")
    for a in network.allocations:
        if a.address == address:
            raise Conflict(f"{address} is already in use on network {network.name} ({a.kind.value} {a.owner})")


def allocate(network: Network, kind: AllocationKind, owner: str, address: IPv4Address | None = None) -> tuple[Network, IPv4Address]:
    """A copy of ``network`` with one more allocation, at ``address`` or the lowest free one."""
    if address is None:
        address = lowest_free(network)
    else:
        check_fixed(network, address)
    allocations = tuple(sorted((*network.allocations, Allocation(address, kind, owner))))
    return replace(network, allocations=allocations), address


def release(network: Network, kind: AllocationKind, owner: str) -> Network:
    kept = tuple(a for a in network.allocations if not (a.kind is kind and a.owner == owner))
    return network if len(kept) == len(network.allocations) else replace(network, allocations=kept)


def addresses_of(network: Network, kind: AllocationKind, owner: str) -> list[IPv4Address]:
    return [a.address for a in network.allocations if a.kind is kind and a.owner == owner]


def overlapping(network: Network, others: Iterable[Network]) -> Network | None:
    for other in others:
        if other.name != network.name and other.subnet.overlaps(network.subnet):
            return other
    return None
