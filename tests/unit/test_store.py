"""The store: strict loading, atomic writes, locks, the journal across a crash, the listing cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace
from ipaddress import IPv4Address

import pytest

from conftest import NOW, REPO
from oci.errors import InvalidState, NotFound
from oci.model import Cluster, Machine, Network
from oci.model.codec import decode, encode
from oci.service import clusters, machines, networks, topology
from oci.service.views import machine_views
from oci.store import Store, files


def write(store, relpath, text):
    path = store.root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))


def test_unknown_key_is_refused_naming_file_and_key(store):
    write(store, "clusters/cl1.yaml", "name: cl1\ndomain: example.com\ncolour: blue\n")
    with pytest.raises(InvalidState, match=r"^clusters/cl1.yaml: key 'colour': unknown key$"):
        store.get(Cluster, "cl1")


def test_wrong_type_is_refused_naming_the_nested_key(store, discover):
    discover("C1")
    text = (store.root / "machines/C1.yaml").read_text().replace("total_mb: 8192", "total_mb: lots")
    write(store, "machines/C1.yaml", text)
    with pytest.raises(InvalidState, match=r"machines/C1.yaml: key 'hardware.memory.total_mb': expected an integer, got 'lots'"):
        store.get(Machine, "C1")


def test_bad_setting_and_bad_yaml_are_refused(store):
    write(store, "clusters/cl1.yaml", "name: cl1\ndomain: example.com\nsettings: {swift_part_power: high}\n")
    with pytest.raises(InvalidState, match="clusters/cl1.yaml: .*swift_part_power"):
        store.get(Cluster, "cl1")
    write(store, "clusters/cl2.yaml", "name: [cl2\n")
    with pytest.raises(InvalidState, match="clusters/cl2.yaml: not valid YAML"):
        store.get(Cluster, "cl2")


def test_file_name_and_content_must_agree(store):
    write(store, "clusters/cl1.yaml", "name: other\ndomain: example.com\n")
    with pytest.raises(InvalidState, match="holds cluster 'other', not 'cl1'"):
        store.get(Cluster, "cl1")


def test_missing_object(store):
    with pytest.raises(NotFound, match="no cluster named 'cl9'"):
        store.get(Cluster, "cl9")


def test_round_trip_of_a_full_machine(store, discover):
    discover("C1", disks=[{"name": "sda", "size_bytes": 480103981056, "model": "MZ7LH480", "rotational": False}])
    machine = store.get(Machine, "C1")
    assert decode(Machine, encode(machine), "x") == machine
    again = files.load_yaml(files.dump_yaml(encode(machine)))
    assert decode(Machine, again, "x") == machine


def test_atomic_write_leaves_no_temp_file_and_sets_mode(tmp_path):
    target = tmp_path / "d" / "f.yaml"
    files.atomic_write(target, b"a: 1\n", mode=0o600)
    files.atomic_write(target, b"a: 2\n", mode=0o600)
    assert target.read_bytes() == b"a: 2\n"
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert os.listdir(target.parent) == ["f.yaml"]


def test_writes_outside_a_lock_are_a_programming_error(store, discover):
    discover("C1")
    machine = store.get(Machine, "C1")
    with pytest.raises(RuntimeError, match="without the machine"):
        store.write_machine(machine)
    with pytest.raises(RuntimeError, match="without the topology lock"):
        store.transaction()


def test_machine_lock_serialises_threads(store, discover):
    discover("C1")

    def bump():
        for _ in range(20):
            with store.machine_lock(["C1"]):
                m = store.get(Machine, "C1")
                notes = int(m.settings.get("notes", "0") or "0")
                store.write_machine(replace(m, settings={"notes": str(notes + 1)}))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get(Machine, "C1").settings["notes"] == "80"


def demo_state(store, discover):
    topology.region_create(store, "r1")
    topology.location_create(store, "loc1", "r1")
    networks.create(store, "net1", "192.168.101.0", "24", "loc1", "no")
    clusters.create(store, "cl1", "example.com")
    networks.add(store, "net1", "cl1", "all", "eth0")
    discover("C1")


CRASHING_ADD = """
import os, sys
sys.path.insert(0, {lib!r})
from pathlib import Path
from oci.store import files, Store
from oci.service import machines
real = files.atomic_write
count = 0
def crashing(path, data, mode=0o644):
    global count
    if "cache" not in path.parts:  # the listing cache is not part of the change
        count += 1
    if count > {writes}:
        os._exit(137)  # the power goes out
    real(path, data, mode)
files.atomic_write = crashing
machines.add(Store(Path({root!r})), "C1", "cl1", "controller", "loc1")
"""


@pytest.mark.parametrize("writes", [0, 1, 2, 3])
def test_a_crash_during_machine_add_loses_nothing_and_corrupts_nothing(store, discover, writes):
    """machine-add writes a journal, then the cluster, the network and the machine file. Kill the process
    after ``writes`` writes: the next command either sees nothing of the change or all of it."""
    demo_state(store, discover)
    code = CRASHING_ADD.format(lib=str(REPO / "lib"), root=str(store.root), writes=writes)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 137, proc.stderr
    with store.topology_lock():  # the next command replays what was journalled
        pass
    machine = store.get(Machine, "C1")
    cluster = store.get(Cluster, "cl1")
    network = store.get(Network, "net1")
    if writes == 0:  # the journal itself was not written: nothing happened
        assert machine.enrolment is None
        assert cluster.role_counters == {}
        assert network.allocations == ()
    else:
        assert machine.enrolment.hostname == "cl1-controller-1.example.com"
        assert cluster.role_counters == {"controller": 1}
        assert [a.address for a in network.allocations] == [IPv4Address("192.168.101.2")]
    assert not (store.root / "journal.yaml").exists()
    leftovers = list(store.root.rglob(".*.tmp"))
    for p in leftovers:  # a temp file from the interrupted write is harmless; nothing reads it
        assert p.name.startswith(".")


def test_replay_keeps_a_report_that_came_after_the_crash(store, discover):
    demo_state(store, discover)
    code = CRASHING_ADD.format(lib=str(REPO / "lib"), root=str(store.root), writes=1)
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    discover("C1", memory={"total_mb": 16384})  # the node reports before any command replays the journal
    with store.topology_lock():
        pass
    machine = store.get(Machine, "C1")
    assert machine.enrolment is not None
    assert machine.hardware.memory_mb == 16384


def test_listing_cache_follows_changes(store, discover):
    discover("C1")
    assert machine_views(store)["C1"]["memory_mb"] == 8192
    assert (store.root / "cache" / "machine-views.json").exists()
    discover("C1", memory={"total_mb": 4096})
    assert machine_views(store)["C1"]["memory_mb"] == 4096
    machines.destroy(store, "C1")
    assert machine_views(store) == {}


def test_unwritable_cache_is_not_an_error(store, discover):
    discover("C1")
    (store.root / "cache").mkdir(exist_ok=True)
    (store.root / "cache" / "machine-views.json").mkdir()  # cannot be replaced by a file
    assert "C1" in machine_views(store)


def test_reader_without_state_sees_empty_lists(tmp_path):
    empty = Store(tmp_path / "nothing")
    assert empty.all(Cluster) == []
    assert empty.heartbeats() == {}
    assert machine_views(empty) == {}
    assert not (tmp_path / "nothing").exists() or not any((tmp_path / "nothing").iterdir())


def test_steady_state_report_rewrites_only_the_heartbeat(store, discover):
    discover("C1")
    before = (store.root / "machines/C1.yaml").stat()
    result = discover("C1", when=NOW.replace(minute=1))
    assert result["result"] == "seen"
    after = (store.root / "machines/C1.yaml").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert store.heartbeat("C1").reports == 2
    assert store.heartbeat("C1").last_seen == NOW.replace(minute=1)


def test_listing_cache_sees_same_size_rewrites(store, discover):
    discover("C1")
    for note in ("a", "b", "c", "d"):  # same size, microseconds apart, inode numbers may be reused
        machines.set_(store, "C1", {"notes": note}, [])
        assert machine_views(store)["C1"]["notes"] == note
