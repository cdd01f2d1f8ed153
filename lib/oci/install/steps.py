"""The steps of ``oci-install``, in order (docs/install.md): what each does on the node and how its teardown
undoes it after a failure. The ``Context`` carries the plan and what the steps learn and leave behind
(mounts, arrays, partition mappings), so a teardown undoes exactly what was done, even half of a step.

Tools run on the live system (sfdisk, wipefs, mdadm, mkfs, debootstrap, mount) or in the target's chroot
(apt-get, grub-install, update-grub, update-ca-certificates), always through ``oci.run``.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from oci import hwraid
from oci import run as proc
from oci.errors import InvalidInput, OciError
from oci.install import plan as install_plan
from oci.install import render
from oci.install.bundle import BundleFile
from oci.install.layout import MIB, partition_device
from oci.install.plan import BootMode, InstallPlan
from oci.install.runner import Step
from oci.netconf.target import write_files
from oci.templates import Templates

LOG = logging.getLogger("oci-install")
# The smallest disk the node accepts: the BIOS boot and EFI partitions and a 3 GiB root (the master's
# install_minimum_disk_gib setting is the operator's, usually higher; this one only refuses nonsense).
MINIMUM_DISK = (1 + 512) * MIB + (3 << 30)
PARTITION_GUARD = 60.0  # seconds: the guard for partition nodes to appear (udev makes them in milliseconds)
QUICK, LONG = 600.0, 3600.0  # command timeouts: guards against a hung tool, never figures
CERTIFICATES_DIR = "usr/local/share/ca-certificates/"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# dpkg's fsync of every file is off during the install (UNSAFE_IO_PATH, written before debootstrap).
APT_OPTIONS = ("-y", "-q", "--no-install-recommends", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold")
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "DEBCONF_NONINTERACTIVE_SEEN": "true", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")


class InstallError(OciError):
    """A step of the install cannot go on (a disk in use, a device that did not appear)."""


@dataclass
class Context:
    """One install: the plan, the bundle's files, and what the steps did so far (mutable, one per run)."""

    plan: InstallPlan
    files: dict[str, BundleFile]
    target: Path  # an empty folder: the root file system is mounted there
    templates: Templates
    dev: Path = Path("/dev")
    sys_block: Path = Path("/sys/class/block")
    efivars: Path = Path("/sys/firmware/efi/efivars")
    mounts: list[Path] = field(default_factory=list)  # what we mounted, in order
    arrays: list[str] = field(default_factory=list)  # md devices we assembled
    mapped: list[str] = field(default_factory=list)  # disks whose partition nodes we made
    uuids: dict[str, str] = field(default_factory=dict)  # device name -> file system UUID
    path: str | None = None  # where the vendors' RAID tools are looked for (None: $PATH)

    def run(self, argv: Sequence[str], timeout: float = QUICK, env: dict[str, str] | None = None, input_text: str | None = None) -> str:
        LOG.info("+ %s", shlex.join(argv))
        return proc.run(argv, timeout=timeout, env=env, input_text=input_text).stdout

    def chroot(self, argv: Sequence[str], timeout: float = QUICK) -> str:
        return self.run(["chroot", str(self.target), *argv], timeout=timeout, env=APT_ENV)

    def device(self, name: str) -> str:
        return str(self.dev / name)

    def mount(self, source: str, where: Path, *options: str) -> None:
        where.mkdir(parents=True, exist_ok=True)
        self.run(["mount", *options, source, str(where)])
        self.mounts.append(where)


def _udev_runs() -> bool:
    return Path("/run/udev/control").exists()


def _partitions(context: Context, disk: str) -> list[str]:
    """The partitions the kernel knows of ``disk`` (sda1, nvme0n1p2, loop0p3)."""
    folder = context.sys_block / disk
    return sorted(p.name for p in folder.iterdir() if (p / "partition").is_file()) if folder.is_dir() else []


def _mounted_sources() -> set[str]:
    """The devices mounted or used as swap (the first column of both tables), symbolic links resolved."""
    sources = set()
    for table in (Path("/proc/self/mounts"), Path("/proc/swaps")):
        for line in table.read_text().splitlines():
            source = line.split(maxsplit=1)[0] if line.strip() else ""
            if source.startswith("/dev/"):
                sources.add(os.path.realpath(source))
    return sources


# -- hardware-raid ----------------------------------------------------------------------------------

# The vendors' tools, in the order they are looked for; Dell's perccli64 takes storcli64's commands.
RAID_PROGRAMS = (("storcli64", "megaraid"), ("perccli64", "megaraid"), ("ssacli", "hpe"))


def hardware_raid(context: Context) -> None:
    """The system disk as a logical drive of the machine's first RAID controller: its logical drives deleted,
    the plan's drives chosen from the tool's listing, the logical drive created. No teardown: the old logical
    drives cannot be brought back, and the next install builds it again the same way."""
    plan = context.plan.layout.hardware_raid
    assert plan is not None  # the step is in the list only then
    found = next(((path, name) for program, name in RAID_PROGRAMS if (path := shutil.which(program, path=context.path))), None)
    if found is None:
        raise InstallError(
            "hardware RAID asked, but no RAID tool is here (" + ", ".join(p for p, _ in RAID_PROGRAMS) + ")",
            hint="add the vendor's tool to the live image (docs/install.md), or set hardware_raid to none",
        )
    program, tool_name = found  # the tool's full path: the argv lists below name the tool by its usual name
    tool = hwraid.TOOLS[tool_name]
    controllers = tool.parse(context.run([program, *tool.inventory_argv()[1:]]))
    controller = controllers[0]  # parse() refuses a listing without a controller
    for argv in hwraid.commands(controller, plan):
        context.run([program, *argv[1:]])
    LOG.info("hardware RAID %s built on %s", plan.level, controller)
    if _udev_runs():  # the logical drive's block device, before check-disks looks for it
        context.run(["udevadm", "settle", f"--timeout={int(PARTITION_GUARD)}"])


# -- check-disks --------------------------------------------------------------------------------------


def check_disks(context: Context) -> None:
    in_use = _mounted_sources()
    for disk in context.plan.layout.disks:
        path = context.dev / disk
        try:
            mode = path.stat().st_mode
        except OSError:
            raise InstallError(f"disk {path} does not exist on this machine") from None
        if not stat.S_ISBLK(mode):
            raise InstallError(f"{path} is not a block device")
        size = int((context.sys_block / disk / "size").read_text()) * 512
        if size < MINIMUM_DISK:
            raise InstallError(f"disk {path} holds {size >> 20} MiB, less than the {MINIMUM_DISK >> 20} MiB an install needs")
        for name in (disk, *_partitions(context, disk)):
            if os.path.realpath(context.dev / name) in in_use:
                raise InstallError(f"{context.dev / name} is mounted or used as swap", hint="the install wipes it: unmount it first")


# -- wipe -----------------------------------------------------------------------------------------------


def _holders(context: Context, name: str) -> list[str]:
    folder = context.sys_block / name / "holders"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def wipe(context: Context) -> None:
    """Every signature off the disks and their old partitions; an old array the live system assembled from
    them (mdadm's udev rules do) is stopped first."""
    for disk in context.plan.layout.disks:
        for name in (disk, *_partitions(context, disk)):
            for holder in _holders(context, name):
                if holder.startswith("md"):
                    context.run(["mdadm", "--stop", context.device(holder)])
        for name in (*_partitions(context, disk), disk):
            context.run(["wipefs", "--all", "--quiet", context.device(name)])


# -- partition ------------------------------------------------------------------------------------------


def partition(context: Context) -> None:
    layout = context.plan.layout
    script = render.sfdisk_script(layout, context.templates)
    for disk in layout.disks:
        context.mapped.append(disk)
        context.run(["sfdisk", "--quiet", "--wipe", "always", "--wipe-partitions", "always", context.device(disk)], input_text=script)
        # sfdisk asks the kernel to read the new table, which a loop device without partition scanning
        # refuses: partx tells the kernel of each partition itself (on a disk, it finds them known already).
        context.run(["partx", "--update", context.device(disk)])
    if _udev_runs():
        context.run(["udevadm", "settle"])
    wanted = [context.dev / partition_device(disk, p.number) for disk in layout.disks for p in layout.partitions]
    deadline = time.monotonic() + PARTITION_GUARD
    while not all(path.exists() for path in wanted):
        if time.monotonic() > deadline:
            missing = ", ".join(str(p) for p in wanted if not p.exists())
            raise InstallError(f"partition nodes did not appear within {PARTITION_GUARD:.0f} s: {missing}")
        time.sleep(0.1)  # devtmpfs or udev makes the nodes; polling a bounded condition


def unmap_partitions(context: Context) -> None:
    """Teardown of partition: the kernel forgets the partitions we told it of (a loop device's nodes go).
    A partition someone opens for a moment (udev's probe after an unmount, a blkid or lsblk of another
    program) cannot be deleted then: tried again until the guard."""
    while context.mapped:
        disk = context.mapped.pop()
        deadline = time.monotonic() + PARTITION_GUARD
        while _partitions(context, disk):
            try:
                context.run(["partx", "--delete", context.device(disk)])
            except proc.CommandError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)  # a transient holder: bounded by the guard


# -- raid -----------------------------------------------------------------------------------------------


def raid(context: Context) -> None:
    layout = context.plan.layout
    assert layout.raid_level is not None
    members = [context.device(m) for m in layout.root_members]
    md = context.device(layout.raid_device)
    context.arrays.append(layout.raid_device)
    argv = ["mdadm", "--create", md, "--run", "--metadata=1.2", f"--level={layout.raid_level}", f"--raid-devices={len(members)}"]
    # The array starts to resync at once; the install goes on meanwhile (the kernel throttles the resync).
    context.run([*argv, "--homehost=any", "--name=root", *members])


def stop_arrays(context: Context) -> None:
    while context.arrays:
        name = context.arrays.pop()
        if (context.sys_block / name).exists():
            context.run(["mdadm", "--stop", context.device(name)])


# -- filesystems ----------------------------------------------------------------------------------------


def filesystems(context: Context) -> None:
    layout = context.plan.layout
    context.run(["mkfs.ext4", "-F", "-q", "-L", "root", context.device(layout.root_device)])
    for esp in layout.esp_devices:
        context.run(["mkfs.vfat", "-F", "32", "-n", "EFI", context.device(esp)])
    for name in (layout.root_device, layout.esp_devices[0]):
        context.uuids[name] = context.run(["blkid", "-p", "-s", "UUID", "-o", "value", context.device(name)]).strip()


# -- mount ----------------------------------------------------------------------------------------------


def mount(context: Context) -> None:
    layout = context.plan.layout
    # For the install only (fstab mounts it as usual): barrier=0, since flushing the disk's cache at each of
    # dpkg's thousands of commits is what an install waits for most, and the end syncs and unmounts anyway
    # (a power loss before that fails the install, which starts again from a wiped disk); noinit_itable, so
    # the kernel zeroes the inode tables mkfs left (half a GB on 8 GiB) at the installed system's first
    # mount rather than in the install's way.
    context.mount(context.device(layout.root_device), context.target, "-o", "barrier=0,noinit_itable")
    (context.target / "boot" / "efi").mkdir(parents=True)
    # The packages debootstrap and apt download are unpacked once and deleted: kept in memory, they are
    # never written to the disk.
    context.mount("tmpfs", context.target / "var" / "cache" / "apt" / "archives", "-t", "tmpfs", "-o", "mode=0755")
    if context.plan.boot is BootMode.UEFI:
        # Only grub for UEFI writes there; in BIOS mode the ESP stays empty until a UEFI boot needs it
        # (the installed system mounts it by fstab all the same).
        context.mount(context.device(layout.esp_devices[0]), context.target / "boot" / "efi")


def unmount_all(context: Context) -> None:
    """Everything we mounted, in reverse order; a mount a stray process keeps busy is detached lazily, so
    nothing stays mounted under the target."""
    while context.mounts:
        where = context.mounts.pop()
        try:
            context.run(["umount", str(where)])
        except proc.CommandError as exc:
            LOG.warning("%s busy (%s): detached lazily", where, str(exc).splitlines()[0])
            context.run(["umount", "--lazy", str(where)])


# -- debootstrap ----------------------------------------------------------------------------------------


def debootstrap(context: Context) -> None:
    plan = context.plan
    # minbase: the essential packages and apt; the packages step adds the rest, in one apt run. The
    # archive's signature is checked: the cache serves the signed Release as is, and a keyring named
    # explicitly makes a missing one an error (debootstrap alone would go on unchecked).
    argv = ["debootstrap", "--variant=minbase", "--merged-usr", f"--keyring={KEYRING}", plan.release, str(context.target), plan.mirror]
    # Read by every dpkg run in the target, debootstrap's own included (it has no option for it); the target
    # is unmounted and synced at the end, and a crash before that fails the install anyway, so dpkg's fsync
    # of every file would only slow it down (docs/install.md has the figures).
    write_files(context.target, {install_plan.UNSAFE_IO_PATH: render.dpkg_unsafe_io(context.templates).encode()})
    context.run(argv, timeout=LONG)


# -- chroot-mounts --------------------------------------------------------------------------------------


def chroot_mounts(context: Context) -> None:
    target = context.target
    context.mount("/dev", target / "dev", "--bind")
    context.mount("/dev/pts", target / "dev" / "pts", "--bind")
    context.mount("proc", target / "proc", "-t", "proc")
    context.mount("sysfs", target / "sys", "-t", "sysfs")
    context.mount("tmpfs", target / "run", "-t", "tmpfs", "-o", "mode=0755,nosuid,nodev")
    if context.plan.boot is BootMode.UEFI and context.efivars.is_dir():
        context.mount("efivarfs", target / "sys" / "firmware" / "efi" / "efivars", "-t", "efivarfs")
    write_files(target, {install_plan.POLICY_PATH: render.policy_rc_d(context.templates).encode()}, modes={install_plan.POLICY_PATH: 0o755})


# -- packages -------------------------------------------------------------------------------------------


def package_names(names: Sequence[str]) -> list[str]:
    """Names as apt takes them, refused unless each is a Debian package name (nothing apt reads as an
    option, a file or a version)."""
    for name in names:
        if not _PACKAGE.fullmatch(name):
            raise InvalidInput(f"{name!r} is not a Debian package name")
    return list(names)


def packages(context: Context) -> None:
    plan = context.plan
    before = {install_plan.SOURCES_PATH: render.apt_sources(plan, context.templates)}
    if plan.layout.raid_level:
        # Before mdadm and the kernel are installed: mdadm's package keeps it, and the one initramfs the
        # install builds (half a minute) already assembles the root array.
        before[install_plan.MDADM_PATH] = render.mdadm_conf(context.run(["mdadm", "--detail", "--scan"]), context.templates)
    write_files(context.target, {path: text.encode() for path, text in before.items()})
    context.chroot(["apt-get", "-q", "update"], timeout=LONG)
    # The kernel in an apt run of its own, after everything else: its postinst builds the initramfs at once,
    # and the packages configured before it (initramfs-tools, udev, mdadm...) ask for a rebuild that dpkg
    # defers to the end of their run. In one run, that is a second build of the same initramfs (half a
    # minute here, ten under TCG); in two, their requests find no kernel yet, and the one build has every
    # hook in place.
    others = [name for name in plan.packages if name != install_plan.KERNEL_PACKAGE]
    context.chroot(["apt-get", "install", *APT_OPTIONS, *package_names(others)], timeout=LONG)
    if install_plan.KERNEL_PACKAGE in plan.packages:
        context.chroot(["apt-get", "install", *APT_OPTIONS, install_plan.KERNEL_PACKAGE], timeout=LONG)
    if plan.extra_packages:
        context.chroot(["apt-get", "install", *APT_OPTIONS, *package_names(plan.extra_packages)], timeout=LONG)


# -- files ----------------------------------------------------------------------------------------------


def files(context: Context) -> None:
    """The bundle's files at their modes, then what only the node can write (UUIDs, the console)."""
    plan, layout = context.plan, context.plan.layout
    bundled = context.files.items()
    write_files(context.target, {path: item.data for path, item in bundled}, modes={path: item.mode for path, item in bundled})
    rendered = {
        install_plan.FSTAB_PATH: render.fstab(context.uuids[layout.root_device], context.uuids[layout.esp_devices[0]], context.templates),
        install_plan.GRUB_PATH: render.grub_default(plan.serial_console, context.templates),
        install_plan.HOSTNAME_PATH: render.hostname(plan.hostname, context.templates),
    }
    write_files(context.target, {path: text.encode() for path, text in rendered.items()})
    if any(path.startswith(CERTIFICATES_DIR) for path in context.files):
        context.chroot(["update-ca-certificates"])


# -- bootloader -----------------------------------------------------------------------------------------


def bootloader(context: Context) -> None:
    plan, layout = context.plan, context.plan.layout
    disks = [context.device(d) for d in layout.disks]
    if plan.boot is BootMode.UEFI:
        # --removable: \EFI\BOOT\BOOTX64.EFI, which firmware boots without an NVRAM entry (none is written:
        # --no-nvram), so the disk boots wherever it is.
        context.chroot(["grub-install", "--target=x86_64-efi", "--efi-directory=/boot/efi", "--removable", "--no-nvram"])
        _copy_esp(context)
    for disk in disks:
        # BIOS boot too in UEFI mode: the same disks then boot if the firmware is reset to legacy.
        context.chroot(["grub-install", "--target=i386-pc", disk])
    context.chroot(["update-grub"])


def _copy_esp(context: Context) -> None:
    """The first ESP's content onto the others, so any disk of a RAID boots alone."""
    first = context.target / "boot" / "efi"
    for esp in context.plan.layout.esp_devices[1:]:
        where = Path(tempfile.mkdtemp(prefix="oci-esp-"))
        try:
            context.mount(context.device(esp), where)
            # Contents only: FAT has no modes or owners to copy (copytree's copystat would fail there).
            for source in sorted(first.rglob("*")):
                copy = where / source.relative_to(first)
                if source.is_dir():
                    copy.mkdir(exist_ok=True)
                else:
                    shutil.copyfile(source, copy)
        finally:
            if context.mounts and context.mounts[-1] == where:
                context.mounts.pop()
                context.run(["umount", str(where)])
            where.rmdir()


# -- units ----------------------------------------------------------------------------------------------


def units(context: Context) -> None:
    if context.plan.units:
        context.run(["systemctl", f"--root={context.target}", "enable", *context.plan.units])


# -- unmount --------------------------------------------------------------------------------------------


def unmount(context: Context) -> None:
    (context.target / install_plan.POLICY_PATH).unlink(missing_ok=True)  # the installed system starts its daemons
    (context.target / install_plan.UNSAFE_IO_PATH).unlink(missing_ok=True)  # and its dpkg syncs
    unmount_all(context)
    stop_arrays(context)
    context.run(["sync"])


def steps(plan: InstallPlan) -> list[Step[Context]]:
    """The steps of an install of ``plan``, in order (raid only with software RAID, hardware-raid only with
    hardware RAID)."""
    listed: list[tuple[str, Callable[[Context], None], Callable[[Context], None] | None]] = [
        ("hardware-raid", hardware_raid, None),
        ("check-disks", check_disks, None),
        ("wipe", wipe, None),
        ("partition", partition, unmap_partitions),
        ("raid", raid, stop_arrays),
        ("filesystems", filesystems, None),
        ("mount", mount, unmount_all),
        ("debootstrap", debootstrap, None),
        ("chroot-mounts", chroot_mounts, unmount_all),
        ("packages", packages, None),
        ("files", files, None),
        ("bootloader", bootloader, None),
        ("units", units, None),
        ("unmount", unmount, unmount_all),
    ]
    return [
        Step(name, action, teardown) if teardown else Step(name, action)
        for name, action, teardown in listed
        if (name != "raid" or plan.layout.raid_level) and (name != "hardware-raid" or plan.layout.hardware_raid)
    ]
