"""machine-add-many: a rack enrolled in one call, all or none, with one refresh of the cluster's ENC; the
same hostnames and addresses as one machine-add after the other would give."""

from __future__ import annotations

import json

import pytest

from conftest import one_cluster, state_files
from oci.cli.main import main
from oci.enc import refresh
from oci.errors import Conflict, InvalidInput, NotFound
from oci.service import clusters, machines


@pytest.fixture
def rack(store, discover):
    one_cluster(store)
    for i in range(12):
        discover(f"R{i:02d}", address=f"192.168.100.{20 + i}")
    return store


def ocicli(store, capsys, *argv):
    code = main(["--json", *argv], store_factory=lambda: store)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def test_a_rack_in_one_call(rack, capsys, tmp_path, monkeypatch):
    refresh.follow_configuration(rack)  # what ocicli's first change on the master does anyway
    renders = []
    real = refresh.refresh
    monkeypatch.setattr(refresh, "refresh", lambda store, name: renders.append(name) or real(store, name))
    listing = tmp_path / "rack.txt"
    lines = ["# rack 4", "R00 cl1 controller loc1", *(f"R{i:02d} cl1 compute loc1   # U{i}" for i in range(1, 11)), "",
             "R11 cl1 compute loc1 192.168.101.200"]  # fmt: skip
    listing.write_text("\n".join(lines) + "\n")
    code, rows, err = ocicli(rack, capsys, "machine-add-many", str(listing))
    assert code == 0, err
    assert [r["hostname"] for r in rows] == ["cl1-controller-1.example.com", *(f"cl1-compute-{n}.example.com" for n in range(1, 12))]
    addresses = [r["addresses"] for r in rows]
    assert len(set(addresses)) == 12 and addresses[-1] == "192.168.101.200@mgmt"
    assert renders == ["cl1"]  # one refresh of the cluster's classifications for the whole rack
    assert clusters.show(rack, "cl1")["first_master"] == "R00"
    assert len(list((rack.root / "enc" / "cluster-cl1").glob("*.yaml"))) == 12


def test_all_or_nothing(rack, capsys, tmp_path):
    machines.add(rack, "R05", "cl1", "compute", "loc1")
    refresh.follow_configuration(rack)  # what ocicli's first change on the master does anyway
    before = state_files(rack)
    listing = tmp_path / "rack.txt"
    listing.write_text("R00 cl1 compute loc1\nR01 cl1 compute loc1\nR05 cl1 compute loc1\nR06 cl1 compute loc1\n")
    code, _, err = ocicli(rack, capsys, "machine-add-many", str(listing))
    assert code != 0
    refused = "error: entry 3 (R05): machine R05 is already enrolled as cl1-compute-1.example.com (machine-remove it first)"
    assert err.strip().endswith(refused)
    assert state_files(rack) == before


@pytest.mark.parametrize(
    ("entries", "error", "message"),
    [
        ([], InvalidInput, "machines: expected a list of {serial, cluster, role, location, fixed_ip?}"),
        ([{"serial": "R00", "cluster": "cl1", "role": "compute"}], InvalidInput, "entry 1: location is missing"),
        ([{"serial": "R00", "cluster": "cl1", "role": "compute", "location": "loc1", "colour": "red"}], InvalidInput,
         "entry 1: expected {serial, cluster, role, location, fixed_ip?}"),
        ([{"serial": "R00", "cluster": "cl1", "role": "compute", "location": "loc1"}] * 2, InvalidInput,
         "entry 2 (R00): the machine is listed twice"),
        ([{"serial": "R00", "cluster": "cl1", "role": "com pute", "location": "loc1"}], InvalidInput, "entry 1 (R00): invalid role name"),
        ([{"serial": "R00", "cluster": "nope", "role": "compute", "location": "loc1"}], NotFound,
         "entry 1 (R00): no cluster named 'nope'"),
        ([{"serial": "R00", "cluster": "cl1", "role": "compute", "location": "loc1", "fixed_ip": 7}], InvalidInput,
         "entry 1 (R00): invalid fixed IP 7: expected an IPv4 address"),
        ([{"serial": "R00", "cluster": "cl1", "role": "compute", "location": "loc1"}] * 1001, InvalidInput,
         "machines: 1001 entries, at most 1000 in one call"),
    ],
)  # fmt: skip
def test_bad_entries_are_refused_in_one_line(rack, entries, error, message):
    before = state_files(rack)
    with pytest.raises(error) as refused:
        machines.add_many(rack, entries)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)
    assert state_files(rack) == before


def test_the_file_s_own_errors(rack, capsys, tmp_path):
    listing = tmp_path / "rack.txt"
    listing.write_text("R00 cl1 compute loc1\nR01 cl1 compute\n")
    code, _, err = ocicli(rack, capsys, "machine-add-many", str(listing))
    assert code != 0 and err.strip().endswith(f"error: {listing}:2: expected SERIAL CLUSTER ROLE LOCATION [FIXED_IP], got 3 words")
    listing.write_text("# nothing\n")
    code, _, err = ocicli(rack, capsys, "machine-add-many", str(listing))
    assert err.strip().endswith(f"error: {listing}: no machine in it")
    code, _, err = ocicli(rack, capsys, "machine-add-many", str(tmp_path / "missing.txt"))
    assert "error: cannot read" in err and "No such file or directory" in err


def test_a_full_network_refuses_the_whole_rack(store, discover, capsys):
    one_cluster(store, prefix="29")
    for i in range(8):
        discover(f"T{i}", address=f"192.168.100.{40 + i}")
    before = state_files(store)
    with pytest.raises(Conflict, match="network"):
        machines.add_many(store, [{"serial": f"T{i}", "cluster": "cl1", "role": "compute", "location": "loc1"} for i in range(8)])
    assert state_files(store) == before
