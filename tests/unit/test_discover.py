"""Discovery parsers on captured real output (tests/data/hw/), with golden reports.

tests/data/golden/reports/<machine>.json is the report body built from tests/data/hw/<machine>/; after a
deliberate change, run ``OCI_UPDATE_GOLDEN=1 make check`` and review the diff.
"""

from __future__ import annotations

import json
import os

import pytest

from conftest import REPO
from oci.discover import blockdevices, dmidecode, nics, tools
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


def test_lsblk_skips_a_floppy_drive():
    """qemu's default pc machine has a floppy drive, which lsblk types "disk"."""
    listing = {"blockdevices": [{"name": "fd0", "size": 4096, "type": "disk", "rm": True},
                                {"name": "vda", "size": 21474836480, "type": "disk", "rm": False}]}  # fmt: skip
    assert [d["name"] for d in blockdevices.from_json(json.dumps(listing))] == ["vda"]
    text = "NAME SIZE TYPE\nfd0    4K disk\nvda   20G disk\n"
    assert [d["name"] for d in blockdevices.from_text(text)] == ["vda"]


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


# ----------------------------------------------------------------------------- the agent's smaller tools
def test_ethtool_on_real_servers():
    assert tools.ethtool_driver((HW / "supermicro-as-1124us-tnrp" / "ethtool-i-ens7f0np0.txt").read_text()) == {
        "driver": "bnxt_en", "firmware": "227.0.134.0/pkg 227.1.111.0"}  # fmt: skip
    assert tools.ethtool_driver((HW / "firecracker-vm" / "ethtool-i-eth0.txt").read_text()) == {"driver": "virtio_net", "firmware": None}
    assert tools.ethtool_speed((HW / "quanta-quantamicro-x10e-9n" / "ethtool-eth4.txt").read_text()) == 10000
    assert tools.ethtool_speed((HW / "firecracker-vm" / "ethtool-eth0.txt").read_text()) is None  # "Speed: Unknown!"
    speeds = [tools.ethtool_speed(p.read_text()) for p in sorted(HW.glob("*/ethtool-[!i]*.txt"))]
    assert all(s is None or s >= 10 for s in speeds) and 1000 in speeds


def test_lldp_shapes():
    listed = tools.lldp_neighbours((HW / "dell-poweredge-r640" / "lldpctl.json").read_text())  # interface: [{eno1: ...}, ...]
    assert listed["eno1"] == {"switch_name": "router", "switch_port": "ge-1/0/1"}
    single = tools.lldp_neighbours((HW / "asrockrack-romed8-2t" / "lldpctl.json").read_text())  # interface: {name: ...}
    assert len(single) == 1 and all(v["switch_port"] for v in single.values())
    assert tools.lldp_neighbours((HW / "hpe-proliant-dl360-gen10" / "lldpctl-no-neighbors.json").read_text()) == {}


def test_lscpu_flat_and_nested():
    flat = tools.lscpu((HW / "firecracker-vm" / "lscpu.json").read_text())
    assert (flat["vendor"], flat["sockets"], flat["threads"]) == ("GenuineIntel", 1, 2)
    nested = tools.lscpu((HW / "inspur-nf5280m6" / "lscpu.json").read_text())
    assert (nested["sockets"], nested["cores_per_socket"], nested["threads"]) == (2, 32, 64)  # hyper-threading off
    assert nested["model"].startswith("Intel(R) Xeon(R) Gold 6430")


def test_ipmitool_on_real_bmcs():
    assert tools.ipmitool_firmware((HW / "dell-poweredge-r640" / "ipmitool-mc-info.txt").read_text()) == "1.54"
    assert tools.ipmitool_lan((HW / "lenovo-thinksystem-sr650" / "ipmitool-lan-print.txt").read_text()) == {
        "address": "192.168.111.202", "mac": "08:94:ef:01:ed:c4"}  # fmt: skip
    assert tools.ipmitool_lan((HW / "hpe-proliant-dl360-gen10" / "ipmitool-lan-print.txt").read_text())["address"] is None  # 0.0.0.0
    failed = (HW / "firecracker-vm" / "ipmitool-mc-info.txt").read_text()  # no BMC: the tool's error text
    assert tools.ipmitool_firmware(failed) is None and tools.ipmitool_lan(failed) == {"address": None, "mac": None}


def test_secure_boot_and_memory():
    assert tools.secure_boot((HW / "qemu-standard-pc" / "mokutil-sb-state.txt").read_text()) is True
    assert tools.secure_boot((HW / "dell-poweredge-r640" / "mokutil-sb-state.txt").read_text()) is False
    assert tools.secure_boot((HW / "firecracker-vm" / "mokutil-sb-state.txt").read_text()) is None  # no EFI
    assert tools.lsmem_total_mb((HW / "firecracker-vm" / "lsmem.json").read_text()) == 24576
    assert 23000 < tools.meminfo_total_mb((HW / "firecracker-vm" / "meminfo.txt").read_text()) < 24576


def test_qemu_guest_report():
    body = from_capture_folder(HW / "qemu-standard-pc")
    assert body["system"]["manufacturer"] == "QEMU"
    assert [n["name"] for n in body["nics"]] == ["ens3"]  # from ip -j addr
    assert body["disks"][0]["size_bytes"] > 10**9  # human sizes of lsblk --json without -b
