"""Finding a network-booting machine by a NIC's MAC or by the address of its last report, through the store's
indexes (one small file each, checked against the machine it names): kept up to date by reports and by
machine-destroy, built once for a state directory that has none, and never believing a stale entry."""

from __future__ import annotations

import shutil
from datetime import timedelta
from ipaddress import IPv4Address

from conftest import NOW
from oci.service import boot, machines

MAC_A, MAC_B = "24:6e:96:aa:bb:01", "24:6e:96:aa:bb:02"


def nics(*macs):
    return [{"name": f"eth{i}", "mac": mac, "speed_mbps": 1000} for i, mac in enumerate(macs)]


def found(store, mac=None, address=None):
    machine = boot.find(store, mac, None, IPv4Address(address) if address else None)
    return machine.serial if machine else None


def test_by_mac_follows_the_reports(store, discover):
    discover("C1", nics=nics(MAC_A))
    assert found(store, MAC_A) == "C1"
    assert found(store, MAC_A.upper()) == "C1"  # iPXE may send it in capitals
    discover("C1", nics=nics(MAC_B), when=NOW + timedelta(minutes=1))  # the NIC was replaced
    assert (found(store, MAC_A), found(store, MAC_B)) == (None, "C1")
    assert not (store.root / "index" / "mac" / MAC_A.replace(":", "-")).exists()


def test_a_nic_moved_to_another_chassis_is_found_in_it(store, discover):
    discover("C1", nics=nics(MAC_A))
    discover("C2", address="192.168.100.21", nics=nics(MAC_A, MAC_B))  # the card went into C2
    assert found(store, MAC_A) == "C2"
    discover("C1", nics=nics("24:6e:96:aa:bb:03"), when=NOW + timedelta(minutes=1))  # C1 no longer has it
    assert found(store, MAC_A) == "C2"  # C1's update left C2's entry alone


def test_by_the_address_of_the_last_report(store, discover):
    discover("C1", address="192.168.100.20", nics=nics(MAC_A))
    assert found(store, address="192.168.100.20") == "C1"
    discover("C1", address="192.168.100.30", nics=nics(MAC_A), when=NOW + timedelta(minutes=1))
    assert (found(store, address="192.168.100.20"), found(store, address="192.168.100.30")) == (None, "C1")
    assert found(store, "52:54:00:99:99:99", "192.168.100.30") == "C1"  # an unknown MAC: the address decides


def test_a_destroyed_machine_leaves_no_entry(store, discover):
    discover("C1", address="192.168.100.20", nics=nics(MAC_A))
    machines.destroy(store, "C1")
    assert (found(store, MAC_A), found(store, address="192.168.100.20")) == (None, None)
    assert [p.name for p in (store.root / "index" / "mac").iterdir()] == [".complete"]


def test_a_state_without_indexes_gets_them_once(store, discover):
    discover("C1", address="192.168.100.20", nics=nics(MAC_A))
    discover("C2", address="192.168.100.21", nics=nics(MAC_B))
    shutil.rmtree(store.root / "index")  # a state directory from before the indexes
    assert (found(store, MAC_B), found(store, address="192.168.100.20")) == ("C2", "C1")
    assert (store.root / "index" / "mac" / ".complete").exists() and (store.root / "index" / "address" / ".complete").exists()


def test_a_stale_or_damaged_entry_finds_nothing(store, discover):
    discover("C1", nics=nics(MAC_A))
    discover("C2", address="192.168.100.21", nics=nics(MAC_B))
    assert found(store, MAC_B) == "C2"  # the index is complete from now on: its entries are believed, once checked
    entry = store.root / "index" / "mac" / MAC_A.replace(":", "-")
    entry.unlink()
    entry.symlink_to("C2")  # names a machine without that MAC (a crash between two writes)
    assert found(store, MAC_A) is None
    entry.unlink()
    entry.symlink_to("../../etc/passwd")
    assert found(store, MAC_A) is None


def test_a_lost_entry_is_made_again_by_the_machine_s_next_write(store, discover):
    discover("C1", address="192.168.100.20", nics=nics(MAC_A))
    assert found(store, MAC_A) == "C1"
    (store.root / "index" / "mac" / MAC_A.replace(":", "-")).unlink()  # a power cut took it (links are not fsynced)
    assert found(store, MAC_A) is None
    machines.set_(store, "C1", {"notes": "rack 4"}, [])  # any write of the machine
    assert found(store, MAC_A) == "C1"


def test_a_dry_run_copies_the_state_with_its_indexes(store, discover, site):
    from oci import operations

    discover("C3", address="192.168.100.23", nics=nics(MAC_A))
    assert found(store, MAC_A) == "C3"
    change = {"name": "cl1", "settings": {"region_name": "R2"}}
    result = operations.execute(store, "dry_run", {"operation": "cluster_set", "params": change})
    assert result["changes"]
