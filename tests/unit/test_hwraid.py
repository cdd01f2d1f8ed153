"""Hardware RAID command building, on the tools' output in their published formats (tests/data/hwraid/, written
after public examples: no controller here to capture from): a Dell R640's PERC
(storcli64 /call show J) and an HPE DL360 Gen10's Smart Array (ssacli ctrl all show config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oci import hwraid
from oci.errors import Conflict, InvalidInput
from oci.hwraid import RaidPlan, ToolOutputError

DATA = Path(__file__).resolve().parent.parent / "data" / "hwraid"


def _perc() -> hwraid.Controller:
    (controller,) = hwraid.TOOLS["megaraid"].parse((DATA / "storcli-c0-show-j-r640.json").read_text())
    return controller


def _smart_array() -> hwraid.Controller:
    (controller,) = hwraid.TOOLS["hpe"].parse((DATA / "ssacli-ctrl-all-show-config-dl360.txt").read_text())
    return controller


def test_storcli_inventory():
    perc = _perc()
    assert (perc.tool, perc.slot, perc.model, perc.logical_drives) == ("megaraid", "0", "PERC H730P Mini", 1)
    assert [(d.id, d.size, d.kind, d.interface, d.usable, d.configured) for d in perc.drives] == [
        ("32:0", "446.625 GB", "ssd", "SATA", True, True),
        ("32:1", "446.625 GB", "ssd", "SATA", True, True),
        ("32:2", "3.637 TB", "hdd", "SAS", True, False),
        ("32:3", "3.637 TB", "hdd", "SAS", True, False),
        ("32:4", "3.637 TB", "hdd", "SAS", True, False),
        ("32:5", "3.637 TB", "hdd", "SAS", False, False),  # UBad
    ]
    assert hwraid.TOOLS["megaraid"].inventory_argv() == ["storcli64", "/call", "show", "J"]


def test_ssacli_inventory():
    array = _smart_array()
    assert (array.tool, array.slot, array.model, array.logical_drives) == ("hpe", "0", "HPE Smart Array P408i-a SR Gen10", 1)
    assert [(d.id, d.size, d.kind, d.interface, d.usable, d.configured) for d in array.drives] == [
        ("1I:1:1", "480 GB", "ssd", "SATA", True, True),
        ("1I:1:2", "480 GB", "ssd", "SATA", True, True),
        ("1I:1:3", "1.2 TB", "hdd", "SAS", True, False),
        ("1I:1:4", "1.2 TB", "hdd", "SAS", True, False),
        ("2I:1:5", "1.2 TB", "hdd", "SAS", True, False),
        ("2I:1:6", "1.2 TB", "hdd", "SAS", False, False),  # Failed
        ("2I:1:7", "480 GB", "ssd", "SATA", True, False),
    ]


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (RaidPlan("1", 2, "ssd"), [["storcli64", "/c0/vall", "del", "force"],
                                   ["storcli64", "/c0", "add", "vd", "type=raid1", "name=oci-system", "drives=32:0,32:1"]]),
        (RaidPlan("5", 3, "hdd"), [["storcli64", "/c0/vall", "del", "force"],
                                   ["storcli64", "/c0", "add", "vd", "type=raid5", "name=oci-system", "drives=32:2,32:3,32:4"]]),
        (RaidPlan("10", 4), [["storcli64", "/c0/vall", "del", "force"],  # two SSDs and two HDDs: not one size
                             None]),
    ],
)  # fmt: skip
def test_storcli_commands(plan, expected):
    if expected[-1] is None:
        with pytest.raises(Conflict, match=r"^PERC H730P Mini \(controller 0\): RAID 10 needs 4 healthy drives of one size; it has 3$"):
            hwraid.commands(_perc(), plan)
    else:
        assert hwraid.commands(_perc(), plan) == expected


def test_ssacli_commands():
    array = _smart_array()
    clear = ["ssacli", "ctrl", "slot=0", "ld", "all", "delete", "forced"]
    assert hwraid.commands(array, RaidPlan("1", 2, "ssd")) == [
        clear, ["ssacli", "ctrl", "slot=0", "create", "type=ld", "drives=1I:1:1,1I:1:2", "raid=1", "forced"]]  # fmt: skip
    assert hwraid.commands(array, RaidPlan("5", 3, "hdd"))[-1] == [
        "ssacli", "ctrl", "slot=0", "create", "type=ld", "drives=1I:1:3,1I:1:4,2I:1:5", "raid=5", "forced"]  # fmt: skip
    with pytest.raises(Conflict, match=r"RAID 10 needs 4 healthy hdd drives of one size; it has 3$"):
        hwraid.commands(array, RaidPlan("10", 4, "hdd"))  # the fourth HDD failed


def test_a_blank_controller_is_not_cleared():
    blank = hwraid.Controller("hpe", "1", "HPE Smart Array E208i-a SR Gen10", _smart_array().drives[2:5], 0)
    assert hwraid.commands(blank, RaidPlan("0", 1)) == [
        ["ssacli", "ctrl", "slot=1", "create", "type=ld", "drives=1I:1:3", "raid=0", "forced"]]  # fmt: skip


def test_raid10_on_megaraid_is_mirrored_pairs():
    drives = tuple(hwraid.PhysicalDrive(f"8:{i}", "1.745 TB", "ssd", "SAS", True, False) for i in range(4))
    controller = hwraid.Controller("megaraid", "1", "MegaRAID 9460-8i", drives, 0)
    assert hwraid.commands(controller, RaidPlan("10", 4)) == [
        ["storcli64", "/c1", "add", "vd", "type=raid10", "name=oci-system", "drives=8:0,8:1,8:2,8:3", "pdperarray=2"]]  # fmt: skip


@pytest.mark.parametrize(
    ("level", "drives", "kind", "message"),
    [
        ("1", 3, "any", "hardware RAID 1 takes 2 drives, not 3"),
        ("10", 5, "any", "hardware RAID 10 takes 4 to 32, an even number, drives, not 5"),
        ("5", 2, "any", "hardware RAID 5 takes 3 to 32 drives, not 2"),
        ("50", 4, "any", "invalid hardware RAID level '50': expected one of 0, 1, 5, 6, 10"),
        ("1", 2, "nvme", "invalid hardware RAID drive kind 'nvme': expected one of any, ssd, hdd"),
    ],
)
def test_impossible_plans_are_refused(level, drives, kind, message):
    with pytest.raises(InvalidInput) as err:
        RaidPlan(level, drives, kind)
    assert err.value.message == message


@pytest.mark.parametrize(
    ("tool", "output", "message"),
    [
        ("megaraid", "not json", r"^storcli64's output is not a controller listing \(JSONDecodeError"),
        ("megaraid", '{"Controllers": [{"Command Status": {"Controller": 0, "Status": "Failure", "Description": "Un-supported command"}}]}',
         r"^storcli64: controller 0: Un-supported command$"),
        ("megaraid", '{"Controllers": [{"Command Status": {"Controller": 0, "Status": "Success"}, "Response Data": {}}]}',
         r"^storcli64's output is not a controller listing \(KeyError: 'Product Name'\)$"),
        ("hpe", "Error: No controllers detected.\n", r"^ssacli's output names no controller$"),
        ("hpe", "Smart Array P440ar in Slot 0 (Embedded)\n   Unassigned\n      physicaldrive 1I:2:1 (port 1I:box 2:bay 1, 480 GB, OK)\n",
         r"^ssacli: a drive line this parser does not know: 'physicaldrive 1I:2:1"),
    ],
)  # fmt: skip
def test_unknown_output_is_refused_not_guessed(tool, output, message):
    with pytest.raises(ToolOutputError, match=message):
        hwraid.TOOLS[tool].parse(output)
