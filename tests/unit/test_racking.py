"""Racking from LLDP (lib/oci/racking.py, lib/oci/service/racking.py): the rules refused in one line, the rack
guessed from real servers' LLDP neighbours (tests/data/hw/), and machine-auto-rack with its dry run."""

from __future__ import annotations

import json
from ipaddress import IPv4Address

import pytest
import yaml

from conftest import NOW, REPO, state_files
from oci import racking
from oci.cli.main import main
from oci.discover.report import from_capture_folder
from oci.errors import InvalidInput, NotFound
from oci.report import v1
from oci.service import machines, reports
from oci.service import racking as service

HW = REPO / "tests" / "data" / "hw"
EXAMPLE = REPO / "etc" / "racking.yaml"
# The Dell R640's captured LLDP: eno1 on the switch "router", port ge-1/0/1; its other NICs see no neighbour.
RULES = """
switches:
  - {switch: "spine-*", dc: dc9, row: Z, rack: z1}
  - {switch: "rout*", dc: dc1, row: A, rack: a12, location: dc1-zone1}
ports: {ge-1/0/1: 14, ge-1/0/2: 16}
products: {"PowerEdge R7*": 2}
"""


def hardware(name):
    return v1.parse(from_capture_folder(HW / name, serial="S1")).hardware


def test_the_rack_of_a_real_server_from_its_lldp_neighbour():
    rules = racking.parse(yaml.safe_load(RULES))
    found, why = racking.guess(rules, hardware("dell-poweredge-r640"))
    assert found is not None and why == []
    assert found.settings == {"loc_dc": "dc1", "loc_row": "A", "loc_rack": "a12", "loc_u_start": 14, "loc_u_end": 14}
    assert (found.location, found.nic, found.switch, found.port) == ("dc1-zone1", "eno1", "router", "ge-1/0/1")
    two_units = racking.parse(yaml.safe_load(RULES.replace("PowerEdge R7*", "PowerEdge R6*")))
    assert racking.guess(two_units, hardware("dell-poweredge-r640"))[0].settings["loc_u_end"] == 15  # type: ignore[union-attr]
    own_ports = RULES.replace("location: dc1-zone1}", "location: dc1-zone1, ports: {ge-1/0/1: 30}}")
    assert racking.guess(racking.parse(yaml.safe_load(own_ports)), hardware("dell-poweredge-r640"))[0].settings["loc_u_start"] == 30  # type: ignore[union-attr]


def test_why_no_rack_is_found():
    hpe = hardware("hpe-proliant-dl360-gen10")  # lldpd saw no neighbour on any NIC
    found, why = racking.guess(racking.parse(yaml.safe_load(RULES)), hpe)
    assert found is None and why[0] == f"{hpe.nics[0].name}: no LLDP neighbour" and len(why) == len(hpe.nics)
    other_switch = racking.parse(yaml.safe_load(RULES.replace("rout*", "leaf-*")))
    assert racking.guess(other_switch, hardware("dell-poweredge-r640"))[1][0] == "eno1: switch router fits no switch rule"
    no_port = racking.parse(yaml.safe_load(RULES.replace("ge-1/0/1: 14, ", "")))
    assert racking.guess(no_port, hardware("dell-poweredge-r640"))[1][0] == "eno1: port ge-1/0/1 of router has no rack unit"


def test_the_shipped_example_parses():
    rules = racking.parse(yaml.safe_load(EXAMPLE.read_text()))
    assert rules.switches and rules.ports


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ("[1]", "r.yaml: the file: must be a mapping"),
        ("switches: {a: 1}", "r.yaml: switches: must be a list of switch rules"),
        ("switches: [{switch: 'x*', dc: d, row: r}]", "r.yaml: switches[0]: rack is missing"),
        ("switches: [{switch: 'x*', dc: d, row: r, rack: k, colour: red}]", "r.yaml: switches[0]: unknown key 'colour'"),
        ("switches: [{switch: 'x*', dc: d, row: r, rack: k, location: 'a/b'}]", "r.yaml: invalid location name 'a/b'"),
        ("switches: [{switch: 'x*', dc: \"a\\nb\", row: r, rack: k}]", "r.yaml: switches[0].dc: must be a text of one line"),
        ("ports: {swp1: 0}", "r.yaml: ports.swp1: must be a whole number from 1 to 100"),
        ("ports: {swp1: x}", "r.yaml: ports.swp1: must be a whole number from 1 to 100"),
        ("products: {R640: 101}", "r.yaml: products.R640: must be a whole number from 1 to 100"),
        ("cables: {}", "r.yaml: the file: unknown key 'cables'"),
    ],
)
def test_wrong_rules_are_refused_in_one_line(document, error):
    with pytest.raises(InvalidInput) as refused:
        racking.parse(yaml.safe_load(document), "r.yaml")
    assert refused.value.message == error


@pytest.fixture
def site(store):
    for serial, name in (("DELL1", "dell-poweredge-r640"), ("HPE1", "hpe-proliant-dl360-gen10")):
        reports.record(store, v1.parse(from_capture_folder(HW / name, serial=serial)), IPv4Address("192.168.100.30"), NOW)
    store.config.racking_rules.write_text(RULES)
    return store


def test_auto_rack_writes_the_settings_and_its_dry_run_changes_nothing(site, capsys):
    # enc/: the ENC's record of the master's address, written by the first operation that changes anything or not
    before = state_files(site, besides=("enc",))
    assert main(["machine-auto-rack", "--dry-run", "DELL1"], store_factory=lambda: site) == 0
    out = capsys.readouterr().out
    assert out == "DELL1: would be racked at dc1 row A rack a12 U14-14 (loc_dc - -> dc1, loc_row - -> A, loc_rack - -> a12, " \
                  "loc_u_start 0 -> 14, loc_u_end 0 -> 14); nothing changed (--dry-run)\n"  # fmt: skip
    assert state_files(site, besides=("enc",)) == before
    assert main(["machine-auto-rack", "DELL1"], store_factory=lambda: site) == 0
    assert capsys.readouterr().out.startswith("DELL1: racked at dc1 row A rack a12 U14-14")
    settings = machines.show(site, "DELL1")["settings"]
    assert (settings["loc_dc"], settings["loc_rack"], settings["loc_u_start"], settings["loc_u_end"]) == ("dc1", "a12", 14, 14)
    assert main(["--json", "machine-auto-rack", "DELL1"], store_factory=lambda: site) == 0
    assert json.loads(capsys.readouterr().out)["changed"] == {}  # already there


def test_guess_racking_and_its_refusals(site, capsys):
    assert main(["--json", "machine-guess-racking", "DELL1"], store_factory=lambda: site) == 0
    assert json.loads(capsys.readouterr().out)["location"] == "dc1-zone1"
    before = state_files(site)
    with pytest.raises(NotFound, match="^no rack for HPE1: .*: no LLDP neighbour; "):
        service.auto_rack(site, "HPE1")
    assert state_files(site) == before
    site.config.racking_rules.write_text("ports: {swp1: many}\n")
    assert main(["machine-auto-rack", "DELL1"], store_factory=lambda: site) == 1
    err = capsys.readouterr().err
    assert err == f"ocicli: error: {site.config.racking_rules}: ports.swp1: must be a whole number from 1 to 100\n"
