"""swift-calculate-ring with Debian's swift-ring-builder: the rings of a cluster's stores (their data disks, zones
from locations, regions from Swift regions), new stores added to existing rings without renumbering, a failure
that leaves the rings as they were, and bad input refused in one line."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import timedelta
from ipaddress import IPv4Address

import pytest

import sshnode
from conftest import NOW, free_port, state_files
from oci.errors import Conflict, InvalidInput, NotFound
from oci.model import Machine
from oci.run import CommandError
from oci.service import clusters, machines, networks, swiftring, topology
from oci.service import status as intake
from oci.store import Store

pytestmark = pytest.mark.skipif(shutil.which("swift-ring-builder") is None, reason="swift is not installed (make deps installs it)")
DISKS = [{"name": "sda", "size_bytes": 240 << 30}, {"name": "sdb", "size_bytes": 4 << 40}, {"name": "sdc", "size_bytes": 4 << 40}]


@pytest.fixture
def swift(store, discover):
    """Cluster sw1 over two regions and three locations (zones), part power 8 (a ring built in seconds): stores
    S1 (loc1) and S2 (loc2) with two data disks each, a proxy P1 (not in the rings)."""
    topology.region_create(store, "r1")
    topology.region_create(store, "r2")
    for location, region in (("loc1", "r1"), ("loc2", "r1"), ("loc3", "r2")):
        topology.location_create(store, location, region)
    clusters.create(store, "sw1", "example.com")
    for number, location in enumerate(("loc1", "loc2", "loc3"), 1):
        networks.create(store, f"net{number}", f"192.168.{100 + number}.0", "24", location, "no")
        networks.add(store, f"net{number}", "sw1", "all", "eth0")
    clusters.set_(store, "sw1", {"swift_part_power": 8, "swift_replicas": 2}, [])
    for serial, location in (("S1", "loc1"), ("S2", "loc2")):
        discover(serial, disks=DISKS)
        machines.add(store, serial, "sw1", "swiftstore", location)
    discover("P1")
    machines.add(store, "P1", "sw1", "swiftproxy", "loc1")
    return store


def devices(store, ring):
    """The builder's own listing of its devices: (region, zone, ip:port, name, weight)."""
    builder = swiftring.folder(store, "sw1") / f"{ring}.builder"
    out = subprocess.run(["swift-ring-builder", str(builder)], capture_output=True, text=True, check=True).stdout
    rows = out.split("Devices:", 1)[1].splitlines()[1:]
    return sorted((int(r.split()[1]), int(r.split()[2]), r.split()[3], r.split()[5], float(r.split()[6])) for r in rows if r.strip())


def test_the_rings_hold_each_stores_data_disks(swift):
    result = swiftring.calculate(swift, "sw1")
    assert result["changed"] and result["devices"] == 12 and result["missing"] == []
    s1, s2 = "192.168.101.2", "192.168.102.2"  # the first free address of each network
    assert devices(swift, "account") == [(1, 1, f"{s1}:6002", "sdb", 1000.0), (1, 1, f"{s1}:6002", "sdc", 1000.0),
                                         (1, 2, f"{s2}:6002", "sdb", 1000.0), (1, 2, f"{s2}:6002", "sdc", 1000.0)]  # fmt: skip
    assert [d[2:4] for d in devices(swift, "object")] == [(f"{s1}:6200", "sdb"), (f"{s1}:6201", "sdc"), (f"{s2}:6200", "sdb"),
                                                          (f"{s2}:6201", "sdc")]  # fmt: skip
    folder = swiftring.folder(swift, "sw1")
    assert all((folder / f"{ring}.ring.gz").is_file() for ring in ("account", "container", "object"))
    assert result["transcript"][0].startswith("account.builder create 8 2 1: ")
    assert any(line.startswith("object.builder rebalance: Reassigned") for line in result["transcript"])

    again = swiftring.calculate(swift, "sw1")  # nothing new: nothing rebuilt
    assert (again["changed"], again["added"]) == (False, [])


def test_a_new_store_is_added_without_renumbering(swift, discover):
    swiftring.calculate(swift, "sw1")
    # loc3 sorts after loc1 and loc2; a new location named loc0 would sort first, and must still not take zone 1.
    topology.location_create(swift, "loc0", "r2")
    networks.create(swift, "net0", "192.168.100.0", "24", "loc0", "no")
    networks.add(swift, "net0", "sw1", "all", "eth0")
    discover("S3", disks=DISKS[:2])
    machines.add(swift, "S3", "sw1", "swiftstore", "loc0")
    result = swiftring.calculate(swift, "sw1", {"object": 500})
    assert result["added"][0] == "account r2z3-192.168.100.2:6002/sdb 1000"
    assert "object r2z3-192.168.100.2:6200/sdb 500" in result["added"]
    assert (2, 3, "192.168.100.2:6200", "sdb", 500.0) in devices(swift, "object")
    assert (1, 1, "192.168.101.2:6200", "sdb", 1000.0) in devices(swift, "object")


def test_a_failed_build_leaves_the_rings_as_they_were(swift, discover, monkeypatch):
    swiftring.calculate(swift, "sw1")
    before = state_files(swift)
    discover("S3", disks=DISKS[:2])
    machines.add(swift, "S3", "sw1", "swiftstore", "loc3")
    after_enrolment = state_files(swift)
    real = swiftring.run

    def failing(argv, **kwargs):
        if argv[2] == "rebalance" and argv[1].endswith("object.builder"):
            raise CommandError(argv, 2, "boom")
        return real(argv, **kwargs)

    monkeypatch.setattr(swiftring, "run", failing)
    with pytest.raises(CommandError):
        swiftring.calculate(swift, "sw1")
    assert state_files(swift) == after_enrolment != before
    assert sorted(p.name for p in swiftring.folder(swift, "sw1").parent.iterdir()) == ["sw1"]


def test_bad_input_is_refused_and_changes_nothing(swift):
    for weights, message in (({"objects": 10}, "no ring 'objects'"), ({"account": 0}, "the account weight must be a number above 0"),
                             ({"account": True}, "the account weight must be a number above 0")):  # fmt: skip
        with pytest.raises(InvalidInput, match=message):
            swiftring.calculate(swift, "sw1", weights)
    clusters.create(swift, "empty", "example.org")
    with pytest.raises(NotFound, match="cluster empty has no swiftstore machine"):
        swiftring.calculate(swift, "empty")
    machines.set_(swift, "S1", {"install_on_raid": True, "raid_type": "1", "raid_dev0": "sda", "raid_dev1": "sdx"}, [])
    with pytest.raises(Conflict, match="sw1-swiftstore-1.example.com: the machine has no disk sdx"):
        swiftring.calculate(swift, "sw1")
    assert not swiftring.folder(swift, "sw1").exists()
    assert {p for p in state_files(swift) if p.parts[0] == "swift-rings"} == set()


def test_the_rings_are_published_to_the_installed_swift_nodes(swift, tmp_path):
    """Over a real sshd holding S1's cluster host certificate, in a mount namespace where /etc/swift is a folder of
    the test: S1 gets the three ring files; S2 answers at the same address without S1's certificate and is refused;
    the proxy P1, not installed, is skipped (its install will carry the rings)."""
    port = free_port()
    site = Store(swift.root, lock_timeout=10, config=replace(swift.config, ssh_port=port, ssh_connect_timeout=15))
    with pytest.raises(Conflict, match="cluster sw1 has no Swift rings yet"):
        swiftring.publish(site, "sw1")
    swiftring.calculate(site, "sw1")
    for serial in ("S1", "S2"):
        for minute, phase in enumerate(("installing", "firstboot", "installed")):
            intake.record(site, serial, phase, IPv4Address("127.0.0.1") if phase != "installing" else None, NOW + timedelta(minutes=minute))
    etc_swift = tmp_path / "etc-swift"
    etc_swift.mkdir()
    sshd_folder = tmp_path / "sshd"
    sshd_folder.mkdir()
    wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c", f'mount --bind {etc_swift} /etc/swift && exec "$@"', "sh"]
    hostname = site.get(Machine, "S1").enrolment.hostname
    with sshnode.installed_node(site, sshd_folder, "sw1", "S1", hostname, port, wrapper=wrapper):
        result = swiftring.publish(site, "sw1")
    by_serial = {n["serial"]: n for n in result["nodes"]}
    assert by_serial["S1"]["result"] == "published"
    assert by_serial["S2"]["result"] == "failed" and "cannot reach S2 over SSH at 127.0.0.1" in by_serial["S2"]["detail"]
    assert (by_serial["P1"]["result"], by_serial["P1"]["detail"]) == ("skipped", "live: its install will carry the rings")
    folder = swiftring.folder(site, "sw1")
    for ring in ("account", "container", "object"):
        published = etc_swift / f"{ring}.ring.gz"
        assert published.read_bytes() == (folder / f"{ring}.ring.gz").read_bytes()
        assert (published.stat().st_mode & 0o777, published.stat().st_uid) == (0o644, 0)
