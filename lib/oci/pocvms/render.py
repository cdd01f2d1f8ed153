"""What the PoC lab runs, as text and argv (pure): qemu's command line, each BMC's ``ipmi_sim`` configuration,
and the chassis-control hook through which the BMC powers its VM on and off."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from oci.pocvms import plan
from oci.templates import Templates, shipped

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")


@dataclass(frozen=True, slots=True)
class Machine:
    """A qemu VM's hardware and plumbing: what ``qemu_argv`` needs (the PoC's VMs and the tests' alike)."""

    serial: str
    product: str
    macs: tuple[str, ...]
    taps: tuple[str, ...]
    disks: tuple[Path, ...]
    console: Path
    memory_mib: int = 2048
    cpus: int = 2
    nvram: Path | None = None  # the VM's own copy of OVMF's variables: UEFI; None: SeaBIOS
    bmc_chardev_port: int | None = None  # its BMC's VM channel on 127.0.0.1, seen in-band through KCS


def qemu_argv(machine: Machine, network_first: bool = True) -> list[str]:
    """qemu under TCG (KVM guests hang on these machines). ``network_first``: the NICs before the disks in the
    boot order (a PXE boot); otherwise the disks first, then the NICs (a blank disk falls through to them).
    Without ``-no-reboot``: a guest's reboot stays in the same qemu, as a server's does."""
    # -nodefaults: no floppy drive (the live report would list fd0 as a disk), no parallel port, no VGA.
    # thread=multi: one host thread per vCPU, so a guest's two vCPUs use two cores.
    product = f",product={machine.product}" if machine.product else ""
    argv = ["qemu-system-x86_64", "-nodefaults", "-accel", "tcg,thread=multi", "-m", str(machine.memory_mib),
            "-smp", str(machine.cpus), "-smbios", f"type=1,manufacturer=QEMU{product},serial={machine.serial}",
            "-display", "none", "-monitor", "none", "-serial", f"file:{machine.console}"]  # fmt: skip
    first_nic, first_disk = (1, 2) if network_first else (len(machine.disks) + 1, 1)
    for index, (mac, tap) in enumerate(zip(machine.macs, machine.taps, strict=True)):
        # Only the first NIC boots: a server PXE-boots from one port.
        boot = f",bootindex={first_nic}" if index == 0 else ",romfile="
        argv += ["-netdev", f"tap,id=n{index},ifname={tap},script=no,downscript=no",
                 "-device", f"e1000,netdev=n{index},mac={mac}{boot}"]  # fmt: skip
    if machine.nvram is not None:
        argv += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
                 "-drive", f"if=pflash,format=raw,unit=1,file={machine.nvram}"]  # fmt: skip
    for index, disk in enumerate(machine.disks):
        # virtio: the guest names them vda, vdb... in order. cache=unsafe: flushes are not worth waiting for
        # on a lab's disk (a guest's reboot does not lose them: qemu keeps running).
        argv += ["-drive", f"file={disk},format=raw,if=none,id=d{index},cache=unsafe",
                 "-device", f"virtio-blk-pci,drive=d{index},bootindex={first_disk + index}"]  # fmt: skip
    if machine.bmc_chardev_port is not None:
        # reconnect: qemu starts even if its simulator is not listening yet, and finds it again if it restarts.
        argv += ["-chardev", f"socket,id=bmc,host=127.0.0.1,port={machine.bmc_chardev_port},reconnect=2",
                 "-device", "ipmi-bmc-extern,id=bmc0,chardev=bmc", "-device", "isa-ipmi-kcs,bmc=bmc0"]  # fmt: skip
    return argv


def machine(vm: plan.Vm, folder: Path) -> Machine:
    """A PoC VM's qemu hardware, its files under ``folder`` (the VM's own)."""
    disks = tuple(folder / f"disk{index}.raw" for index in range(len(vm.hardware.disks_gib)))
    nvram = folder / "OVMF_VARS.fd" if vm.hardware.uefi else None
    return Machine(vm.serial, vm.hardware.product, vm.macs, vm.taps, disks, folder / "console.log", vm.memory_mib, vm.cpus,
                   nvram, vm.chardev_port)  # fmt: skip


def ipmi_sim_config(vm: plan.Vm, hook: Path, templates: Templates | None = None) -> str:
    """The BMC's ``ipmi_sim`` configuration: LAN on its own address, the VM channel qemu connects to, and the
    chassis-control hook (without one, ipmi_sim refuses power commands)."""
    return (templates or shipped()).render(
        "poc-ipmi-sim.conf.j2",
        {
            "name": vm.name,
            "address": str(vm.bmc_listen),
            "chardev_port": vm.chardev_port,
            "guid": f"{0x0C1000000000000000000000000000 + vm.index:032x}",
            "hook": str(hook),  # a folder of the lab's: no quote in it
            "user": plan.BMC_USER,
            "password": plan.BMC_PASSWORD,
        },
    )


def chassis_hook(vm: plan.Vm, folder: Path, templates: Templates | None = None) -> str:
    """The chassis-control hook ipmi_sim runs (``get power boot``, ``set power 1``, ``set boot pxe``...): power
    on starts qemu, network first after a ``boot pxe``; power off kills it. ipmi_sim runs in the lab's
    namespace, so qemu does too, where its taps are."""
    hardware = machine(vm, folder)

    def line(argv: Sequence[str]) -> str:
        return shlex.join(argv)

    return (templates or shipped()).render(
        "poc-chassis-control.sh.j2",
        {
            "folder": shlex.quote(str(folder)),
            "network_first": line(qemu_argv(hardware, network_first=True)),
            "disk_first": line(qemu_argv(hardware, network_first=False)),
            "errors": shlex.quote(str(folder / "qemu.err")),
        },
    )
