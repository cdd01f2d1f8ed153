"""Hardware RAID from the profile to the node: the settings and the profile's layout, the install plan, and
the hardware-raid step run against a stand-in for the vendor's tool (a script that answers the inventory with
a Dell R640's storcli64 output (tests/data/hwraid/) and records the other commands: no controller runs here)."""

from __future__ import annotations

import shlex

import pytest
import yaml
from test_install_node import make_plan

from conftest import REPO
from oci import profiles, templates
from oci.errors import Conflict, InvalidInput
from oci.hwraid import RaidPlan
from oci.install import plan as install_plan
from oci.install import steps
from oci.install.layout import DiskLayout, layout_for
from oci.model import Disk, Hardware

CAPTURED = REPO / "tests" / "data" / "hwraid" / "storcli-c0-show-j-r640.json"
HARDWARE = Hardware(disks=(Disk("sda", 480 << 30), Disk("sdb", 480 << 30)))
P = "profiles.yaml: profile 'p': "


def test_the_settings_give_a_hardware_raid_layout():
    settings = {"hardware_raid": "1", "hardware_raid_drives": 2, "hardware_raid_drive_kind": "ssd", "dest_blk": "none"}
    layout = layout_for(HARDWARE, settings, 8 << 30)
    assert layout == DiskLayout(("sda",), hardware_raid=RaidPlan("1", 2, "ssd"))
    # The logical drive's name is the operator's, unchecked: the report was made before the logical drive existed.
    assert layout_for(Hardware(disks=()), {**settings, "dest_blk": "sdk"}, 8 << 30).disks == ("sdk",)
    with pytest.raises(InvalidInput, match="^hardware_raid and install_on_raid are both set$"):
        layout_for(HARDWARE, {**settings, "install_on_raid": True}, 8 << 30)
    with pytest.raises(InvalidInput, match="^hardware RAID 5 takes 3 to 32 drives, not 2$"):
        layout_for(HARDWARE, {**settings, "hardware_raid": "5"}, 8 << 30)


def test_a_profile_gives_a_hardware_raid():
    (profile,) = profiles.parse(yaml.safe_load("p: {role: compute, layout: {hardware_raid: {level: '1', kind: ssd}}}"), "profiles.yaml")
    assert dict(profile.settings) == {"hardware_raid": "1", "hardware_raid_drives": 2, "hardware_raid_drive_kind": "ssd"}
    assert profile.layout == "hardware raid 1 of 2 ssd drives on sda"
    (profile,) = profiles.parse(yaml.safe_load("p: {role: compute, layout: {hardware_raid: {level: 10, drives: 6}, disk: sdb}}"), "x")
    assert profile.layout == "hardware raid 10 of 6 drives on sdb"


@pytest.mark.parametrize(
    ("layout", "error"),
    [
        ("{hardware_raid: {level: '1'}, raid: '1', members: [sda, sdb]}", "layout: hardware_raid goes with disk only"),
        ("{hardware_raid: {drives: 2}}", "layout.hardware_raid.level: required (0, 1, 5, 6 or 10)"),
        ("{hardware_raid: {level: '7'}}", "layout.hardware_raid: setting 'hardware_raid': "),
        ("{hardware_raid: {level: '6', drives: 3}}", "layout.hardware_raid: hardware RAID 6 takes 4 to 32 drives, not 3"),
        ("{hardware_raid: {level: '1', kind: nvme}}", "layout.hardware_raid: setting 'hardware_raid_drive_kind': "),
        ("{hardware_raid: {level: '1', colour: red}}", "layout.hardware_raid: unknown key 'colour'"),
    ],
)
def test_a_wrong_hardware_raid_profile_is_refused_in_one_line(layout, error):
    with pytest.raises(InvalidInput) as refused:
        profiles.parse(yaml.safe_load(f"p: {{role: compute, layout: {layout}}}"), "profiles.yaml")
    assert refused.value.message.startswith(P + error) and "\n" not in refused.value.message


def test_the_plan_says_it_and_runs_the_step_first():
    plan = make_plan(DiskLayout(("sda",), hardware_raid=RaidPlan("1", 2, "ssd")))
    assert [s.name for s in steps.steps(plan)][:2] == ["hardware-raid", "check-disks"]
    assert "hardware-raid" not in [s.name for s in steps.steps(make_plan())]
    assert ("hardware RAID 1 of 2 ssd drives on the first RAID controller (its logical drives deleted), seen as sda\n"
            "disks: sda (every disk is wiped)") in install_plan.describe(plan)  # fmt: skip
    assert install_plan.from_json(install_plan.to_json(plan)) == plan  # it travels to the node in the bundle


def _tool(folder, name: str) -> None:
    """A stand-in for the vendor's tool: the inventory, and a log of every other command."""
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$*" = "/call show J" ]; then cat {shlex.quote(str(CAPTURED))}; exit 0; fi\n'
        f'echo "$*" >> {shlex.quote(str(folder / "log"))}\n'
    )
    script.chmod(0o755)


def _context(tmp_path, plan: RaidPlan) -> steps.Context:
    return steps.Context(make_plan(DiskLayout(("sda",), hardware_raid=plan)), {}, tmp_path / "target", templates.shipped(),
                         path=str(tmp_path / "bin"))  # fmt: skip


@pytest.mark.parametrize("program", ["storcli64", "perccli64"])
def test_the_step_builds_the_logical_drive_with_the_vendors_tool(tmp_path, program):
    _tool(tmp_path / "bin", program)
    steps.hardware_raid(_context(tmp_path, RaidPlan("1", 2, "ssd")))
    assert (tmp_path / "bin" / "log").read_text().splitlines() == [
        "/c0/vall del force",
        "/c0 add vd type=raid1 name=oci-system drives=32:0,32:1",
    ]


def test_the_step_refuses_without_a_tool_or_enough_drives(tmp_path):
    (tmp_path / "bin").mkdir()
    with pytest.raises(steps.InstallError) as err:
        steps.hardware_raid(_context(tmp_path, RaidPlan("1", 2)))
    assert err.value.message == "hardware RAID asked, but no RAID tool is here (storcli64, perccli64, ssacli)"
    _tool(tmp_path / "bin", "storcli64")
    with pytest.raises(Conflict, match=r"RAID 6 needs 4 healthy hdd drives of one size; it has 3$"):
        steps.hardware_raid(_context(tmp_path, RaidPlan("6", 4, "hdd")))
    assert not (tmp_path / "bin" / "log").exists()  # nothing was deleted before the plan was known to fit
