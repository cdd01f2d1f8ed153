"""machine-wipe (lib/oci/service/wipe.py): the script for a real server's disks (golden file), and the refusals
that change nothing. tests/integration/test_wipe_disks.py runs the script on a loop device, and over SSH."""

from __future__ import annotations

import os
from dataclasses import replace
from ipaddress import IPv4Address

import pytest

from conftest import NOW, REPO, state_files
from oci import templates
from oci.discover.report import from_capture_folder
from oci.errors import OciError
from oci.model import Disk, Machine, MachineStatus
from oci.report import v1
from oci.service import reports, wipe

GOLDEN = REPO / "tests" / "data" / "golden" / "wipe" / "dell-poweredge-r640.sh"


@pytest.fixture
def dell(store):
    body = from_capture_folder(REPO / "tests" / "data" / "hw" / "dell-poweredge-r640", serial="DELL1")
    reports.record(store, v1.parse(body), IPv4Address("192.168.100.30"), NOW)
    return store


def test_the_script_for_a_real_server_matches_its_golden_file(dell):
    machine = dell.get(Machine, "DELL1")
    erased = wipe.disks(machine)
    assert [d["path"] for d in erased] == [f"/dev/sd{c}" for c in "abcdef"]
    text = wipe.script("DELL1", erased, templates.load(None))
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_without_confirmation_nothing_happens(dell):
    before = state_files(dell)
    with pytest.raises(OciError) as refused:
        wipe.wipe(dell, "DELL1")
    assert (
        refused.value.message
        == "machine-wipe erases every disk of DELL1 for good (/dev/sda /dev/sdb /dev/sdc /dev/sdd /dev/sde /dev/sdf): confirm it"
    )
    assert refused.value.hint == "add --yes" and state_files(dell) == before


def test_only_a_live_machine_in_no_cluster_is_wiped(dell, site):
    with dell.machine_lock(["DELL1"]):
        dell.write_machine(replace(dell.get(Machine, "DELL1"), status=MachineStatus.INSTALLED))
    with pytest.raises(OciError, match="^machine DELL1 is installed, not live: its disks are wiped from the live image$"):
        wipe.wipe(dell, "DELL1", True)
    with pytest.raises(OciError, match="^machine C1 is enrolled as cl1-controller-1.example.com: not wiped$"):
        wipe.wipe(site, "C1", True)


def test_a_disk_name_that_is_not_a_plain_device_never_reaches_the_script(dell):
    """The report's intake drops such a name already; a hand-edited machine file must not get one through either."""
    machine = dell.get(Machine, "DELL1")
    odd = replace(machine, hardware=replace(machine.hardware, disks=(Disk(name="sda", size_bytes=10**12, realdev="sda;reboot"),)))
    with pytest.raises(OciError, match="^disk 'sda;reboot' of DELL1 is not a plain device name: not wiped$"):
        wipe.disks(odd)
