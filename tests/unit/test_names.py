"""Every name that reaches a path is validated: hostile names are refused with a one-line error."""

from __future__ import annotations

import pytest

from oci import names
from oci.errors import InvalidName

HOSTILE = ["", "../x", "..", ".", "a/b", "/etc/passwd", "a\x00b", "x" * 300, "a b", "a\nb", "-rf", ".hidden", "é", None, 42, ["a"]]
VALIDATORS = [names.serial, names.cluster, names.role, names.network, names.location, names.swift_region, names.hostname, names.fqdn]


@pytest.mark.parametrize("validator", VALIDATORS, ids=lambda v: v.__name__)
@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_names_are_refused_with_one_line(validator, value):
    with pytest.raises(InvalidName) as err:
        validator(value)
    assert "\n" not in str(err.value)
    assert len(str(err.value)) < 120


@pytest.mark.parametrize(
    ("validator", "value"),
    [
        (names.serial, "CZJ91803BQ"),
        (names.serial, "C1"),
        (names.serial, "1CJ9FV2"),
        (names.serial, "VMware-56_4d.b1-x"),
        (names.cluster, "swift01"),
        (names.cluster, "cl-1"),
        (names.role, "swiftstore"),
        (names.network, "dc1-net1"),
        (names.network, "reg1.zone1_net"),
        (names.location, "dc1-zone1"),
        (names.swift_region, "datacenter-1"),
        (names.hostname, "swift01-controller-1.example.com"),
        (names.fqdn, "example.com"),
    ],
)
def test_ordinary_names_pass(validator, value):
    assert validator(value) == value


@pytest.mark.parametrize("value", ["Upper", "a_b", "a.b", "-a", "a-", "x" * 64])
def test_cluster_names_are_dns_labels(value):
    with pytest.raises(InvalidName):
        names.cluster(value)


def test_hostname_must_be_qualified():
    with pytest.raises(InvalidName, match="fully qualified"):
        names.hostname("controller1")


def test_long_values_are_shortened_in_messages():
    with pytest.raises(InvalidName) as err:
        names.serial("A" * 5000 + "/")
    assert len(str(err.value)) < 80
