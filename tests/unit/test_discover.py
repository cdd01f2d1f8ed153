"""Discovery parsers on captured real output (tests/data/hw/), with golden reports.

tests/data/golden/reports/<machine>.json is the report body built from tests/data/hw/<machine>/; after a
deliberate change, run ``OCI_UPDATE_GOLDEN=1 make check`` and review the diff.
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import REPO
from oci.discover import blockdevices, dmidecode, nics
from oci.discover.report import from_capture_folder
from oci.report import v1

HW = REPO / "tests" / "data" / "hw"
GOLDEN = REPO / "tests" / "data" / "golden" / "reports"
MACHINES = sorted(p.name for p in HW.iterdir() if p.is_dir())


@pytest.mark.parametrize("machine", MACHINES)
def test_report_from_capture_matches_golden(machine):
    body = from_capture_folder(HW / machine)
    golden = GOLDEN / f"{machine}.json"
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    assert body == json.loads(golden.read_text())
    parsed = v1.parse({**body, "serial": body["serial"] or "X1"})
    assert parsed.hardware is not None


def test_a_dozen_varied_machines():
    assert len(MACHINES) >= 12
    vendors = {json.loads((GOLDEN / f"{m}.json").read_text()).get("system", {}).get("manufacturer") for m in MACHINES}
    assert {"Dell Inc.", "HPE", "Lenovo", "Supermicro", "GIGABYTE"} <= vendors


def test_dell_facts():
    facts = dmidecode.facts((HW / "dell-poweredge-r640" / "dmidecode.txt").read_text())
    assert facts["system"] == {"manufacturer": "Dell Inc.", "product_name": "PowerEdge R640", "bios_version": "2.17.1"}
    assert facts["cpu"]["sockets"] == 2
    assert facts["cpu"]["model"] == "Intel(R) Xeon(R) Gold 6230R CPU @ 2.10GHz"
    assert facts["memory"]["total_mb"] == 384 * 1024
    assert facts["serial"] is None  # the capture is anonymised ("--")


def test_whitebox_board_names_the_maker():
    facts = dmidecode.facts((HW / "asrockrack-romed8-2t" / "dmidecode.txt").read_text())
    assert facts["system"]["manufacturer"] is not None
    assert "O.E.M" not in json.dumps(facts)


def test_without_dmi_tables_the_identity_falls_back_to_the_lowest_mac():
    body = from_capture_folder(HW / "firecracker-vm")
    assert (body["serial"], body["serial_source"]) == ("mac-02fc00000001", "mac")
    assert "dmidecode: no SMBIOS table" in body["errors"]
    assert body["memory"] == {"total_mb": 24576}  # from lsmem, since there is no DIMM table
    assert [d["name"] for d in body["disks"]] == ["zram0", "vda"]  # the server skips the empty zram
    assert from_capture_folder(HW / "firecracker-vm", serial="CC")["serial_source"] == "assigned"


SAMPLE = """\
Handle 0x0001, DMI type 1, 27 bytes
System Information
\tManufacturer: Lenovo
\tProduct Name: ThinkSystem SR650
\tSerial Number: J30001XX

Handle 0x0003, DMI type 3, 22 bytes
Chassis Information
\tManufacturer: Lenovo
\tSerial Number: J300ABCD

Handle 0x0011, DMI type 17, 40 bytes
Memory Device
\tSize: 16384 MB
\tType: DDR4

Handle 0x0012, DMI type 17, 40 bytes
Memory Device
\tSize: No Module Installed

Handle 0x0013, DMI type 17, 40 bytes
Memory Device
\tSize: 1 TB
"""


def test_serial_source_and_memory_units():
    facts = dmidecode.facts(SAMPLE)
    assert facts["serial"] == "J300ABCD"  # Lenovo: the chassis serial
    assert facts["memory"]["total_mb"] == 16384 + 1024 * 1024


@pytest.mark.parametrize(("value", "expected"), [(1000, 1000), ("2048", 2048), ("127G", 127 * 1024**3), ("73.7M", int(73.7 * 1024**2)),
                                                 ("", None), (None, None), (True, None)])  # fmt: skip
def test_lsblk_sizes(value, expected):
    assert blockdevices.size_bytes(value) == expected


def test_lsblk_text_keeps_whole_disks_only():
    disks = blockdevices.from_text((HW / "microsoft-virtual-machine" / "lsblk.txt").read_text())
    assert disks == [{"name": "sda", "size_bytes": 127 * 1024**3, "model": None, "serial": None, "transport": None, "rotational": None}]


def test_lsblk_text_columns_by_position():
    """MODEL values contain spaces; SIZE is right-aligned and may start left of its header."""
    disks = blockdevices.from_text((HW / "online-labs-sr" / "lsblk.txt").read_text())
    assert [(d["name"], d["model"], d["serial"]) for d in disks][2] == ("nvme0n1", "WD Red SN700 500GB", "25035L804494")
    assert disks[2]["size_bytes"] == int(465.8 * 1024**3)


def test_bond_ports_report_their_own_mac():
    found = nics.from_text((HW / "dell-poweredge-r640" / "ip-link.txt").read_text())
    assert found[0] == {"name": "eno1", "mac": "e4:43:4b:ec:b4:48"}  # not the bond's d2:ee:35:94:c2:79
    assert not any(n["name"].startswith(("bond", "vnet", "docker")) or "@" in n["name"] for n in found)


def test_ip_link_skips_virtual_interfaces():
    found = nics.from_json((HW / "firecracker-vm" / "ip-link.json").read_text())
    assert [n["name"] for n in found] == ["eth0"]  # lo, ifb0 and ifb1 are not ports
    text = "1: lo: <LOOPBACK> mtu 1\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
    text += "2: eno1: <UP> mtu 1500\n    link/ether 24:6E:96:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
    text += "3: eno1.101@eno1: <UP> mtu 1500\n    link/ether 24:6e:96:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
    text += "4: bond0: <UP> mtu 1500\n    link/ether 24:6e:96:00:00:01 brd ff:ff:ff:ff:ff:ff\n"
    assert nics.from_text(text) == [{"name": "eno1", "mac": "24:6e:96:00:00:01"}]
