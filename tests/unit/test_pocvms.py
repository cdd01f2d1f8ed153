"""oci-poc vms, its pure parts: the lab's plan and sizing, the files and command lines it renders (golden
files), the live table and the summary."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oci.errors import InvalidInput
from oci.model import Machine, MachineStatus
from oci.model.machine import Enrolment, InstallRecord, InstallStep, PhaseChange, PuppetStatus
from oci.pocvms import plan, progress, render

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "data" / "golden" / "poc-vms"
LAB = Path("/var/lib/oci-poc/vms")


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_sizing_on_this_kind_of_machine():
    # 24 GiB: 8 VMs of 2 GiB fit beside the master's side; 2 cores make 3 the default.
    assert plan.fitting(24 * 1024) == 8
    assert plan.default_count(24 * 1024, 2) == 3
    assert plan.default_count(64 * 1024, 32) == plan.MAX_VMS
    assert plan.default_count(4 * 1024, 2) == 1  # nothing fits: one is still tried, and the run checks memory
    assert plan.plan(3).memory_mib == 4096 + 3 * (2048 + 320)


def test_plan_gives_each_vm_its_own_hardware_and_bmc():
    lab = plan.plan(4, roles=("dns", "tempest"))
    assert [vm.serial for vm in lab.vms] == ["C1", "C2", "C3", "C4"]
    assert [vm.role for vm in lab.vms] == ["dns", "tempest", "dns", "tempest"]
    assert [len(vm.hardware.disks_gib) for vm in lab.vms] == [1, 2, 1, 1]
    assert [vm.hardware.uefi for vm in lab.vms] == [False, False, True, False]
    macs = [mac for vm in lab.vms for mac in vm.macs]
    assert len(set(macs)) == len(macs) == 1 + 2 + 2 + 1
    assert all(len(tap) <= 15 for tap in lab.taps)  # a Linux interface name
    listen = [vm.bmc_listen for vm in lab.vms]
    assert len(set(listen)) == 4 and all(a in plan.BMC_NETWORK and not plan.BMC_FIRST <= a <= plan.BMC_LAST for a in listen)
    assert len({vm.chardev_port for vm in lab.vms}) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"count": 0}, "--count must be from 1 to 16, not 0"),
        ({"count": 17}, "--count must be from 1 to 16, not 17"),
        ({"count": 2, "roles": ()}, "--roles: give at least one role"),
        ({"count": 2, "roles": ("dns", "web")}, "--roles: unknown role 'web' (one of "),
        ({"count": 2, "memory_mib": 512}, "--memory must be at least 1024 MiB (the live image runs from RAM), not 512"),
    ],
)
def test_bad_plans_are_refused_in_one_line(args, message):
    with pytest.raises(InvalidInput) as caught:
        plan.plan(**args)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_rendered_bmc_and_vm_files_match_golden():
    lab = plan.plan(3)
    for vm in lab.vms:
        golden(f"{vm.name}-ipmi-sim.conf", render.ipmi_sim_config(vm, LAB / vm.name / "chassis-control"))
    # The hooks differ only in qemu's command lines (two NICs and two disks here; the UEFI ones below).
    golden("vm2-chassis-control.sh", render.chassis_hook(lab.vms[1], LAB / "vm2"))


def test_a_uefi_vm_boots_ovmf_with_its_own_variables():
    vm = plan.plan(3).vms[2]
    argv = render.qemu_argv(render.machine(vm, LAB / vm.name))
    assert f"if=pflash,format=raw,unit=0,readonly=on,file={render.OVMF_CODE}" in argv
    assert f"if=pflash,format=raw,unit=1,file={LAB / 'vm3' / 'OVMF_VARS.fd'}" in argv
    assert not any("pflash" in arg for arg in render.qemu_argv(render.machine(plan.plan(1).vms[0], LAB / "vm1")))


def test_the_hook_parses():
    hook = render.chassis_hook(plan.plan(2).vms[1], LAB / "vm2")
    assert subprocess.run(["bash", "-n"], input=hook, text=True, capture_output=True).returncode == 0


def test_qemu_boot_order_follows_the_boot_device():
    vm = plan.plan(2).vms[1]  # two NICs, two disks
    machine = render.machine(vm, LAB / vm.name)
    network_first = " ".join(render.qemu_argv(machine, network_first=True))
    disk_first = " ".join(render.qemu_argv(machine, network_first=False))
    assert "mac=52:54:00:0c:02:00,bootindex=1" in network_first and "drive=d0,bootindex=2" in network_first
    assert "drive=d0,bootindex=1" in disk_first and "drive=d1,bootindex=2" in disk_first
    assert "mac=52:54:00:0c:02:00,bootindex=3" in disk_first
    assert "mac=52:54:00:0c:02:01,romfile=" in network_first  # the second port does not boot
    assert "-device isa-ipmi-kcs,bmc=bmc0" in network_first and "port=9102" in network_first
    assert "product=OCI PoC 2U,serial=C2" in network_first


def row(vm: str, status: str, phase: str, **more: object) -> progress.Row:
    values: dict[str, object] = {"bmc": None, "power": "on", "in_phase": 65.0, "elapsed": 3725.0}
    values.update(more)
    return progress.Row(vm, vm.upper(), status=status, phase=phase, **values)  # type: ignore[arg-type]


def test_live_table_and_lines():
    rows = [
        row("vm1", "installing", "debootstrap", bmc="10.254.1.10"),
        row("vm2", "-", "waiting for its first report", power="on", in_phase=None),
        row("vm3", "live", "-", failed="no report after 900 s; console: ...login:"),
    ]
    golden("table.txt", progress.table(rows, "stage 1/1: not waited for"))
    assert progress.redraw(0, "x\n") == "x\n"
    assert progress.redraw(5, "x\n") == "\x1b[5A\x1b[Jx\n"
    assert progress.line(rows[0]) == "vm1 (VM1): installing, debootstrap, BMC 10.254.1.10 [1h02m05s since power-on]"
    assert progress.line(rows[2]) == "vm3 (VM3): FAILED: no report after 900 s; console: ...login: [1h02m05s since power-on]"
    last = {"vm1": rows[0].key(), "vm2": ("-", "booting", None, None)}
    assert [r.vm for r in progress.changed(last, rows)] == ["vm2", "vm3"]


def test_summary_times_each_phase_from_the_masters_history():
    on = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)

    def at(minutes: float) -> datetime:
        return on + timedelta(minutes=minutes)

    done = progress.Timeline("vm1", "C1", on, (("live", at(3)), ("installing", at(5)), ("firstboot", at(60)),
                                              ("installed", at(63)), ("puppet-running", at(63)), ("puppet-success", at(67))))  # fmt: skip
    # A failed install went back to live and was started again: the install counts from the second start.
    retried = progress.Timeline("vm2", "C2", on, (("live", at(4)), ("installing", at(6)), ("live", at(20)),
                                                  ("installing", at(21)), ("firstboot", at(80))))  # fmt: skip
    failed = progress.Timeline("vm3", "C3", on, (), failed="no report after 900 s")
    assert progress.phase_seconds(done) == {"to live": 180, "waiting": 120, "install": 3300, "first boot": 180, "puppet": 240}
    assert progress.phase_seconds(retried)["install"] == 59 * 60
    assert progress.phase_seconds(retried)["first boot"] is None
    golden("summary.txt", progress.summary([done, retried, failed]))


def test_a_vms_row_follows_the_masters_record():
    on = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    now = on + timedelta(minutes=30)
    booting = progress.observe("vm1", "C1", None, "10.254.1.201", "on", on, now)
    assert (booting.status, booting.phase, booting.elapsed) == ("-", "booting the live image", 1800)
    live = Machine("C1", MachineStatus.LIVE, on, history=(PhaseChange("live", on + timedelta(minutes=3)),))
    assert progress.observe("vm1", "C1", live, None, "on", on, now).phase == "enrolling"
    enrolled = replace(live, enrolment=Enrolment("poc", "dns", "loc1", "poc-dns-1.poc.example"))
    assert progress.observe("vm1", "C1", enrolled, None, "on", on, now).phase == "waiting for its install"
    steps = (InstallStep("partition", on + timedelta(minutes=5), 2.5), InstallStep("debootstrap", on + timedelta(minutes=6)))
    installing = replace(enrolled, status=MachineStatus.INSTALLING, install=InstallRecord(on + timedelta(minutes=5), steps),
                         history=(*live.history, PhaseChange("installing", on + timedelta(minutes=5))))  # fmt: skip
    row = progress.observe("vm1", "C1", installing, "10.254.1.10", "on", on, now)
    assert (row.phase, row.in_phase) == ("debootstrap", 24 * 60)  # since the step started, not the status
    between = replace(installing, install=InstallRecord(on + timedelta(minutes=5), steps[:1]))
    row = progress.observe("vm1", "C1", between, "10.254.1.10", "on", on, now)
    assert (row.phase, row.in_phase) == ("partition done", 25 * 60 - 2.5)  # the last step, since it ended
    done = replace(installing, status=MachineStatus.INSTALLED, puppet_status=PuppetStatus.SUCCESS,
                   history=(*installing.history, PhaseChange("installed", on + timedelta(minutes=25))))  # fmt: skip
    assert progress.observe("vm1", "C1", done, "10.254.1.10", "on", on, now).phase == "done"
