"""A PoC VM's files and its BMC: the disks, firmware variables, hook and ipmi_sim configuration written, the
simulator started in the lab's namespace, and IPMI over the lab's network to it (ipmitool, as an operator)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from oci.errors import InvalidState
from oci.pocvms import network, plan, render
from oci.run import CommandError, run, spawn

EMU = Path(__file__).resolve().parents[3] / "share" / "poc" / "ipmi-sim.emu"  # one management controller, a SEL
BMC_GUARD = 60.0  # seconds for a simulator to answer after its start: a guard, never a figure


def prepare(vm: plan.Vm, folder: Path) -> None:
    """``folder`` (new) with the VM's sparse disks, its own copy of OVMF's variables (UEFI), the BMC's hook and
    configuration."""
    folder.mkdir()
    for path, size in zip(render.machine(vm, folder).disks, vm.hardware.disks_gib, strict=True):
        with path.open("wb") as disk:
            disk.truncate(size << 30)
    if vm.hardware.uefi:
        shutil.copy(render.OVMF_VARS, folder / "OVMF_VARS.fd")
    hook = folder / "chassis-control"
    hook.write_text(render.chassis_hook(vm, folder))
    hook.chmod(0o755)
    (folder / "ipmi-sim.conf").write_text(render.ipmi_sim_config(vm, hook))
    (folder / "persist").mkdir()


def start_bmc(net: network.Network, vm: plan.Vm, folder: Path) -> subprocess.Popen[bytes]:
    """The VM's ipmi_sim in the namespace (so the qemu its hook starts is there too, with its taps)."""
    argv = ["ipmi_sim", "-n", "-c", str(folder / "ipmi-sim.conf"), "-f", str(EMU), "-s", str(folder / "persist")]
    return spawn(net.inside(*argv), log=folder / "ipmi_sim.log")


def ipmitool_argv(vm: plan.Vm, *args: str) -> list[str]:
    # Cipher suite 3 given: ipmitool otherwise asks for the list, which ipmi_sim does not answer (10 s lost).
    # The factory account's password in argv: a simulator's, written in this source.
    return ["ipmitool", "-I", "lanplus", "-C", "3", "-H", str(vm.bmc_listen), "-U", plan.BMC_USER, "-P", plan.BMC_PASSWORD, *args]


def ipmitool(net: network.Network, vm: plan.Vm, *args: str) -> str:
    return run(net.inside(*ipmitool_argv(vm, *args)), timeout=60).stdout


def wait_for_bmc(net: network.Network, vm: plan.Vm) -> None:
    give_up = time.monotonic() + BMC_GUARD
    while True:
        try:
            ipmitool(net, vm, "chassis", "power", "status")
            return
        except CommandError:
            if time.monotonic() > give_up:
                raise InvalidState(f"{vm.name}'s BMC does not answer on {vm.bmc_listen}") from None
            time.sleep(0.5)  # a simulator starting: nothing tells when it listens, so ask again


def power(folder: Path) -> str:
    """What the BMC says, read where its hook keeps it: ``on`` while the VM's qemu runs."""
    try:
        return "on" if network.alive(int((folder / "qemu.pid").read_text())) else "off"
    except (OSError, ValueError):
        return "off"
