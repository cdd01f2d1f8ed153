"""The Swift rings' pure rules: stable region and zone numbers, the devices of each ring, the builder's commands."""

from __future__ import annotations

from oci import swiftring

STORES = [
    swiftring.SwiftStore("s2", "10.0.0.12", "r1", "loc2", ("sdc", "sdb"), frozenset(swiftring.RINGS)),
    swiftring.SwiftStore("s1", "10.0.0.9", "r1", "loc1", ("sdb",), frozenset({"object"})),
]
WEIGHTS = {"account": 1000.0, "container": 1000.0, "object": 500.0}


def test_numbers_are_given_once_and_kept():
    assert swiftring.numbered({}, ["loc2", "loc1", "loc10"]) == {"loc1": 1, "loc2": 2, "loc10": 3}
    # A later name that sorts first still comes after the numbers given: nothing is renumbered.
    assert swiftring.numbered({"loc1": 1, "loc2": 2}, ["loc0", "loc1"]) == {"loc1": 1, "loc2": 2, "loc0": 3}


def test_devices_per_ring_in_address_then_disk_order():
    found = swiftring.devices(STORES, {"r1": 1}, {"loc1": 1, "loc2": 2}, WEIGHTS)
    assert [d.search for d in found if d.ring == "account"] == ["r1z2-10.0.0.12:6002/sdb", "r1z2-10.0.0.12:6002/sdc"]
    assert [d.search for d in found if d.ring == "container"] == ["r1z2-10.0.0.12:6001/sdb", "r1z2-10.0.0.12:6001/sdc"]
    # 10.0.0.9 before 10.0.0.12 (addresses compared as numbers); one object port per disk.
    assert [(d.search, d.weight) for d in found if d.ring == "object"] == [
        ("r1z1-10.0.0.9:6200/sdb", 500.0), ("r1z2-10.0.0.12:6200/sdb", 500.0), ("r1z2-10.0.0.12:6201/sdc", 500.0)]  # fmt: skip


def test_builder_commands():
    device = swiftring.Device("object", 1, 2, "10.0.0.12", 6200, "sdb", 500.0)
    parameters = swiftring.Parameters(part_power=19, replicas=3)
    assert swiftring.commands("/s", "object", parameters, True, [device]) == [
        ["swift-ring-builder", "/s/object.builder", "create", "19", "3", "1"],
        ["swift-ring-builder", "/s/object.builder", "add", "r1z2-10.0.0.12:6200/sdb", "500"],
        ["swift-ring-builder", "/s/object.builder", "rebalance"],
    ]
    assert swiftring.commands("/s", "object", parameters, False, [])[0][2] == "rebalance"
