"""The install plan: everything ``oci-install`` does on a node, decided on the master from the state (pure).

The master makes the plan (``service/install.py``) and sends it inside the bundle; the node follows it and
decides nothing of its own but what only it can know (file system UUIDs, which device nodes appeared).
``describe`` is what ``machine-install-os --dry-run`` prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from oci.hwraid import RaidPlan
from oci.install.layout import DiskLayout, PartitionRole, partition_device
from oci.model.codec import decode, encode

PLAN_VERSION = 1
# Where the master puts the bundle on the node, and where oci-install logs (machine-install-log reads it).
BUNDLE_PATH = "/run/oci-install/bundle.tar"
LOG_PATH = "/var/log/oci-install.log"
# What oci-install writes itself on the target, from the plan and what only the node knows (install/render.py).
SOURCES_PATH = "etc/apt/sources.list"
MDADM_PATH = "etc/mdadm/mdadm.conf"
FSTAB_PATH = "etc/fstab"
GRUB_PATH = "etc/default/grub.d/oci.cfg"
HOSTNAME_PATH = "etc/hostname"
POLICY_PATH = "usr/sbin/policy-rc.d"  # during the install only
UNSAFE_IO_PATH = "etc/dpkg/dpkg.cfg.d/oci-install-unsafe-io"  # during the install only
# The first Puppet runs (docs/puppet-runs.md): the unit the bundle installs, and the marker that lets it run once
# (its script removes it as it starts); the master writes the marker again to have Puppet run anew.
PUPPET_RUN_UNIT = "oci-puppet-first-run.service"
PUPPET_RUN_MARKER = "var/lib/oci/puppet-first-run"
# What every installed node gets beyond debootstrap's minimal base: a kernel, an init, the network as
# oci-netconf writes it (ifupdown), the master's SSH logins, the first-boot report (curl), Puppet, time.
# The kernel's own package: the install puts it on last (steps.packages says why).
KERNEL_PACKAGE = "linux-image-amd64"
BASE_PACKAGES = (
    KERNEL_PACKAGE, "systemd-sysv", "udev", "kmod", "ifupdown", "iproute2", "openssh-server", "ca-certificates",
    "curl", "puppet", "chrony", "e2fsprogs", "dosfstools", "less", "procps",
    # The kernel's initramfs builder, named so that it comes with the packages before the kernel (its own
    # postinst asks for an initramfs build); it compresses with zstd, its default, but only recommends it:
    # without it, gzip, slower to make and to boot.
    "initramfs-tools", "zstd",
)  # fmt: skip


class BootMode(StrEnum):
    BIOS = "bios"
    UEFI = "uefi"


@dataclass(frozen=True, slots=True)
class NetworkNeeds:
    """What the node's network files need installed (from ``netconf.model.HostNetwork``)."""

    bonds: bool = False
    bridges: bool = False
    ovs: bool = False
    vlans: bool = False


@dataclass(frozen=True, slots=True)
class InstallPlan:
    serial: str
    hostname: str  # FQDN
    cluster: str
    role: str
    boot: BootMode  # as the machine booted the live image
    layout: DiskLayout
    release: str  # Debian suite: bookworm
    mirror: str  # Debian archive for debootstrap and the target's apt (the master's package cache)
    security_mirror: str
    packages: tuple[str, ...]  # installed with apt after debootstrap, in this order
    status_url: str  # where the node reports its steps (POST /api/v1/status)
    serial_console: str | None = None  # ttyS1; None: none
    secure_boot: bool = False
    files: tuple[str, ...] = ()  # what the bundle writes onto the target (relative paths), for describe()
    units: tuple[str, ...] = ()  # systemd units (written by the bundle or packaged) the installer enables
    reboot: bool = True
    version: int = PLAN_VERSION
    extra_packages: tuple[str, ...] = field(default=())  # the operator's, installed last (a failure names them)


def packages_for(boot: BootMode, secure_boot: bool, layout: DiskLayout, network: NetworkNeeds) -> tuple[str, ...]:
    """The packages an install puts on the target after debootstrap (the operator's extras come apart)."""
    if boot is BootMode.UEFI:
        # grub-pc-bin too: the same disk then also boots in BIOS mode (a firmware reset to legacy, a RAID
        # member moved to another machine).
        boot_packages: tuple[str, ...] = ("grub-efi-amd64", "grub-pc-bin")
        if secure_boot:
            boot_packages += ("grub-efi-amd64-signed", "shim-signed")
    else:
        boot_packages = ("grub-pc",)
    optional = (
        ("mdadm", layout.raid_level is not None),
        ("ifenslave", network.bonds),
        ("bridge-utils", network.bridges),
        ("openvswitch-switch", network.ovs),
        ("vlan", network.vlans),
    )
    return (*BASE_PACKAGES, *boot_packages, *(name for name, wanted in optional if wanted))


def node_files(layout: DiskLayout) -> tuple[str, ...]:
    """The files the node renders itself (the bundle's may not replace them)."""
    return (SOURCES_PATH, *((MDADM_PATH,) if layout.raid_level else ()), FSTAB_PATH, GRUB_PATH, HOSTNAME_PATH)


def _size(mib: int | None) -> str:
    return "the rest" if mib is None else f"{mib} MiB"


_ROLE_TEXT = {
    PartitionRole.BIOS_BOOT: "BIOS boot",
    PartitionRole.ESP: "EFI system (vfat)",
    PartitionRole.ROOT: "root (ext4)",
    PartitionRole.RAID: "RAID member",
}


def _wrap(words: Iterable[str], indent: str, width: int = 100) -> list[str]:
    lines, line = [], indent
    for word in words:
        if len(line) + len(word) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += word + " "
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _hardware_raid_text(plan: RaidPlan, disk: str) -> str:
    kind = "" if plan.kind == "any" else f"{plan.kind} "
    return (f"hardware RAID {plan.level} of {plan.drives} {kind}drives on the first RAID controller (its logical drives deleted), "
            f"seen as {disk}")  # fmt: skip


def describe(plan: InstallPlan) -> str:
    """The plan as an operator reads it (``machine-install-os --dry-run``)."""
    layout = plan.layout
    out = [
        f"install plan for {plan.hostname} (serial {plan.serial}), {plan.role} in cluster {plan.cluster}",
        f"boot mode: {plan.boot.value}" + (" with Secure Boot" if plan.secure_boot else ""),
        *([_hardware_raid_text(layout.hardware_raid, layout.disks[0])] if layout.hardware_raid else []),
        "disks: " + ", ".join(layout.disks) + " (every disk is wiped)",
        "partitions (GPT, on each disk):",
    ]
    for part in layout.partitions:
        devices = ", ".join(partition_device(d, part.number) for d in layout.disks)
        out.append(f"  {part.number}  {_size(part.size_mib):>8}  {_ROLE_TEXT[part.role]:<18} {devices}")
    if layout.raid_level:
        out.append(f"software RAID {layout.raid_level}: /dev/{layout.raid_device} over " + ", ".join(layout.root_members))
    out.append(f"root file system: ext4 on /dev/{layout.root_device}")
    esp, *copies = layout.esp_devices
    out.append(f"/boot/efi: vfat on /dev/{esp}" + (f" (copied to {', '.join(copies)})" if copies else ""))
    grub = "grub for UEFI (and BIOS)" if plan.boot is BootMode.UEFI else "grub for BIOS"
    out.append(f"boot loader: {grub} on " + ", ".join(layout.disks))
    out.append(f"serial console: {plan.serial_console or 'none'}")
    out.append(f"debootstrap {plan.release} from {plan.mirror}")
    out.append(f"security updates from {plan.security_mirror}")
    out.append("packages:")
    out += _wrap(plan.packages, "  ")
    if plan.extra_packages:
        out.append("operator's extra packages:")
        out += _wrap(plan.extra_packages, "  ")
    out.append("files written from the bundle:")
    out += [f"  /{path}" for path in plan.files]
    out.append("files the node writes:")
    out += [f"  /{path}" for path in node_files(layout)]
    if plan.units:
        out.append("units enabled: " + ", ".join(plan.units))
    out.append(f"progress reported to {plan.status_url}")
    out.append("then: reboot from the disk" if plan.reboot else "then: stop (no reboot)")
    return "\n".join(out) + "\n"


def to_json(plan: InstallPlan) -> dict[str, Any]:
    return encode(plan)


def from_json(data: object, source: str = "install plan") -> InstallPlan:
    return decode(InstallPlan, data, source)
