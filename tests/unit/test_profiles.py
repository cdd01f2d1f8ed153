"""Hardware profiles (lib/oci/profiles.py, lib/oci/service/profiles.py): the file's schema refused in one line,
matching on the reports of real servers (tests/data/hw/), the profile that applies, and its settings feeding the
install's disk layout under what machine-set stored."""

from __future__ import annotations

import json
import os
from ipaddress import IPv4Address

import pytest
import yaml

from conftest import NOW, REPO
from oci import profiles
from oci.cli.main import main
from oci.discover.report import from_capture_folder
from oci.errors import InvalidInput
from oci.install.layout import layout_for
from oci.model import Machine
from oci.report import v1
from oci.service import machines, reports
from oci.service import profiles as service

HW = REPO / "tests" / "data" / "hw"
P = "profiles.yaml: profile 'p': "
EXAMPLE = REPO / "etc" / "hardware-profiles.yaml"


def hardware(name):
    return v1.parse(from_capture_folder(HW / name, serial="S1")).hardware


def parsed(document):
    return profiles.parse(yaml.safe_load(document), "profiles.yaml")


def test_the_shipped_example_parses_and_fits_the_servers_it_describes():
    found = {p.name: p for p in profiles.parse(yaml.safe_load(EXAMPLE.read_text()))}
    dell, hpe = hardware("dell-poweredge-r640"), hardware("hpe-proliant-dl360-gen10")
    assert [p.name for p in profiles.fitting(tuple(found.values()), dell)] == ["dell-r640-swiftstore"]
    assert [p.name for p in profiles.fitting(tuple(found.values()), hpe)] == ["hpe-dl360-compute"]
    store = found["dell-r640-swiftstore"]
    assert (store.role, store.layout) == ("swiftstore", "raid 1 on sda sdb")
    assert dict(store.settings) == {"install_on_raid": True, "raid_type": "1", "raid_dev0": "sda", "raid_dev1": "sdb"}
    assert found["hpe-dl360-compute"].settings["cpu_allocation_ratio"] == 4.0


def test_why_a_real_server_does_not_fit():
    """The reasons machine-guessed-profile -d prints, one per failed criterion, from the R640's report (6 disks:
    2 of 894 GiB, 4 of 1,740 GiB; 384 GiB; 104 threads of a Xeon Gold 6230R; NICs of unknown speed)."""
    [profile] = parsed("""
        big:
          role: compute
          match:
            manufacturer: [HPE, Lenovo]
            product_name: "PowerEdge R6*"
            cpu_model: "*Gold 62??R*"
            ram_gib: {min: 512}
            cpu_threads: {max: 64}
            disks: {count: {min: 2, max: 4}, size_gib: {min: 1000}}
            nics: {count: {min: 2}, speed_mbps: {min: 25000}}
    """)
    assert profiles.mismatches(profile, hardware("dell-poweredge-r640")) == [
        "manufacturer Dell Inc. is not HPE or Lenovo",
        "RAM 384 GiB is not >= 512 GiB",
        "CPU threads 104 is not <= 64",
        "6 disk(s), not 2 to 4",
        "disk sda is 894 GiB, not >= 1000 GiB",
        "0 NIC(s) at >= 25000 Mb/s, not >= 2",
    ]  # the product and CPU patterns fit
    [fits] = parsed("any:\n  role: compute\n  match: {disks: {count: 6, size_gib: {min: 800}}}")
    assert profiles.mismatches(fits, hardware("dell-poweredge-r640")) == []


def test_disk_kinds_and_usb_disks(store, discover):
    [ssd] = parsed("ssd:\n  role: compute\n  match: {disks: {kind: ssd, count: 2}}")
    disks = [{"name": "sda", "size_bytes": 10**12, "rotational": False}, {"name": "sdb", "size_bytes": 10**12, "rotational": False},
             {"name": "sdc", "size_bytes": 10**12, "rotational": True}, {"name": "sdd", "size_bytes": 10**10, "transport": "usb"},
             {"name": "nvme0n1", "size_bytes": 10**12, "transport": "nvme", "rotational": False}]  # fmt: skip
    discover("K1", disks=disks)
    machine = store.get(Machine, "K1")
    assert profiles.mismatches(ssd, machine.hardware) == []  # two SSDs; the NVMe disk, the HDD and the USB stick apart
    [nvme] = parsed("nvme:\n  role: compute\n  match: {disks: {kind: nvme, count: 2}}")
    assert profiles.mismatches(nvme, machine.hardware) == ["1 nvme disk(s), not 2"]


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ("[a, b]", "profiles.yaml: must be a mapping of profile names to profiles"),
        ("p: {match: {}}", P + "role: missing (the role a machine of this profile takes)"),
        ("p: {role: compute, colour: red}", P + "the profile: unknown key 'colour'"),
        ("p: {role: 'com pute'}", P + "invalid role name 'com pute'"),
        ("'a/b': {role: compute}", "profiles.yaml: profile 'a/b': invalid role name 'a/b'"),
        ("p: {role: compute, match: {ram: 4}}", P + "match: unknown key 'ram'"),
        ("p: {role: compute, match: {ram_gib: {min: x}}}", P + "match.ram_gib.min: must be a number, 0 or more"),
        ("p: {role: compute, match: {ram_gib: {min: 9, max: 3}}}", P + "match.ram_gib: min 9 is above max 3"),
        ("p: {role: compute, match: {ram_gib: {}}}", P + "match.ram_gib: give min, max or both"),
        ("p: {role: compute, match: {disks: {kind: tape}}}", P + "match.disks.kind: must be one of ssd, hdd, nvme"),
        ("p: {role: compute, match: {product_name: []}}",
         P + "match.product_name: must be a text or a list of texts (shell patterns: * and ? allowed)"),
        ("p: {role: compute, layout: {raid: '6', members: [sda, sdb]}}", P + "layout.raid: must be one of 0, 1, 5, 10"),
        ("p: {role: compute, layout: {raid: '1', members: [sda]}}", P + "layout.members: RAID 1 takes 2 disks"),
        ("p: {role: compute, layout: {raid: '1', members: [sda, sda]}}", P + "layout.members: a disk is listed twice"),
        ("p: {role: compute, layout: {raid: '1', members: [sda, /dev/sdb]}}", P + "layout.members: setting 'raid_dev1': "),
        ("p: {role: compute, layout: {disk: sda, raid: '1'}}", P + "layout: either a disk, or a raid level"),
        ("p: {role: compute, settings: {colour: red}}", P + "settings: unknown setting 'colour'"),
        ("p: {role: compute, settings: {cpu_allocation_ratio: many}}", P + "settings: setting 'cpu_allocation_ratio'"),
        ("p: {role: compute, layout: {disk: sda}, settings: {dest_blk: sdb}}",
         P + "settings.dest_blk: the layout sets it already"),
        ("p: {role: compute, description: \"two\\nlines\"}", P + "description: must be one line of text"),
    ],
)  # fmt: skip
def test_a_wrong_profile_is_refused_in_one_line(document, error):
    with pytest.raises(InvalidInput) as refused:
        parsed(document)
    assert refused.value.message.startswith(error) and "\n" not in refused.value.message


def write(store, text):
    path = store.config.hardware_profiles
    path.write_text(text)
    # A rewrite within the file system's timestamp granularity, with the same size, must still be seen.
    os.utime(path, ns=(os.stat(path).st_mtime_ns + 1_000_000, os.stat(path).st_mtime_ns + 1_000_000))


@pytest.fixture
def site(store):
    for serial, name in (("DELL1", "dell-poweredge-r640"), ("HPE1", "hpe-proliant-dl360-gen10")):
        reports.record(store, v1.parse(from_capture_folder(HW / name, serial=serial)), IPv4Address("192.168.100.30"), NOW)
    return store


def test_the_profile_that_applies_gives_the_install_its_layout_under_what_machine_set_stored(site):
    def layout(serial):
        machine = site.get(Machine, serial)
        return layout_for(machine.hardware, service.settings(site, machine), 8 << 30)

    assert (layout("DELL1").disks, layout("DELL1").raid_level) == (("sda",), None)  # no profiles file: the defaults
    write(site, EXAMPLE.read_text())
    assert (layout("DELL1").disks, layout("DELL1").raid_level) == (("sda", "sdb"), "1")
    assert machines.show(site, "DELL1")["profile"] == "dell-r640-swiftstore"
    assert machines.show(site, "DELL1")["settings"]["install_on_raid"] is True
    machines.set_(site, "DELL1", {"install_on_raid": False, "dest_blk": "sdc"}, [])  # one machine differs
    assert (layout("DELL1").disks, layout("DELL1").raid_level) == (("sdc",), None)
    assert service.settings(site, site.get(Machine, "HPE1"))["cpu_allocation_ratio"] == 4.0


def test_two_fitting_profiles_are_ambiguous_and_neither_applies(site):
    write(site, "a:\n  role: compute\n  match: {product_name: 'PowerEdge*'}\n  layout: {disk: sdc}\n"
                "b:\n  role: controller\n  match: {manufacturer: 'Dell*'}\n")  # fmt: skip
    guessed = service.guessed(site, "DELL1")
    assert (guessed["fitting"], guessed["applies"]) == (["a", "b"], None)
    assert service.settings(site, site.get(Machine, "DELL1"))["dest_blk"] == "none"
    assert service.guessed(site, "HPE1")["profiles"][0]["mismatches"] == ["product_name ProLiant DL360 Gen10 is not PowerEdge*"]


def test_a_broken_file_is_one_line_everywhere_and_hides_no_machine(site, capsys):
    write(site, "a:\n  role: compute\n  match: {ram_gib: {min: lots}}\n")
    path = site.config.hardware_profiles
    with pytest.raises(InvalidInput, match=f"^{path}: profile 'a': match.ram_gib.min: must be a number, 0 or more$"):
        service.guessed(site, "DELL1")
    assert machines.show(site, "DELL1")["profile"].startswith(f"unknown: {path}: profile 'a'")
    write(site, "a: [unclosed\n")
    code = main(["profile-list"], store_factory=lambda: site)
    err = capsys.readouterr().err
    assert code == 1 and err.startswith(f"ocicli: error: {path}: line 2: ") and err.count("\n") == 1


def test_profile_list_and_machine_guessed_profile(site, capsys):
    write(site, EXAMPLE.read_text())
    assert main(["profile-list"], store_factory=lambda: site) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["profile_name", "role", "product_names", "ram_min", "ram_max", "layout"]
    assert lines[1].split()[:4] == ["dell-r640-swiftstore", "swiftstore", "PowerEdge", "R640"]
    assert main(["machine-guessed-profile", "DELL1"], store_factory=lambda: site) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == ["dell-r640-swiftstore", "swiftstore", "yes"]
    assert main(["--json", "machine-guessed-profile", "HPE1", "-d"], store_factory=lambda: site) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["fits"], r["applies"]) for r in rows] == [
        ("dell-r640-swiftstore", False, False),
        ("hpe-dl360-compute", True, True),
    ]
    assert rows[0]["why_not"].startswith("manufacturer HPE is not Dell Inc.; product_name ProLiant DL360 Gen10 is not PowerEdge R640")
