"""The files ``oci-install`` writes for other programs, from what only the node knows (file system UUIDs, the
arrays mdadm assembled) and the plan: pure renderers over the templates of ``share/templates`` (golden files
in tests/data/golden/install)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from oci.errors import InvalidInput
from oci.install.layout import DiskLayout
from oci.install.plan import InstallPlan
from oci.templates import Templates, shipped

SFDISK_TEMPLATE = "sfdisk-gpt.j2"
FSTAB_TEMPLATE = "fstab.j2"
GRUB_TEMPLATE = "grub-default-oci.cfg.j2"
MDADM_TEMPLATE = "mdadm.conf.j2"
SOURCES_TEMPLATE = "apt-sources.list.j2"
POLICY_TEMPLATE = "policy-rc.d.j2"
UNSAFE_IO_TEMPLATE = "dpkg-unsafe-io.cfg.j2"
HOSTNAME_TEMPLATE = "hostname.j2"


SERIAL_SPEED = 115200
_SERIAL = re.compile(r"ttyS([0-9])")
_MDADM_ARRAY = re.compile(r"ARRAY \S+( [A-Za-z-]+=\S+)*")


@dataclass(frozen=True, slots=True)
class Mount:
    """A line of the installed system's fstab."""

    uuid: str
    mount_point: str
    fs_type: str
    options: str
    pass_number: int


def sfdisk_script(layout: DiskLayout, templates: Templates | None = None) -> str:
    """The sfdisk input that cuts one disk of ``layout`` (every disk gets the same table)."""
    parts = [{"size_mib": p.size_mib, "type_guid": p.type_guid, "name": p.role.value} for p in layout.partitions]
    return (templates or shipped()).render(SFDISK_TEMPLATE, {"partitions": parts})


def fstab(root_uuid: str, esp_uuid: str, templates: Templates | None = None) -> str:
    entries = (
        Mount(root_uuid, "/", "ext4", "errors=remount-ro", 1),
        # umask: the ESP holds no secret, but nothing there is for users to change either.
        Mount(esp_uuid, "/boot/efi", "vfat", "umask=0077", 2),
    )
    return (templates or shipped()).render(FSTAB_TEMPLATE, {"entries": entries})


def grub_default(serial_console: str | None, templates: Templates | None = None) -> str:
    """/etc/default/grub.d/oci.cfg: the kernel and grub on the screen and, when the plan names one, on the
    serial console (where a BMC's serial-over-LAN shows them)."""
    unit = None
    cmdline = "console=tty0"
    if serial_console is not None:
        match = _SERIAL.fullmatch(serial_console)
        if match is None:
            raise InvalidInput(f"serial console {serial_console!r} is not ttyS0..ttyS9")
        unit = int(match.group(1))
        cmdline += f" console={serial_console},{SERIAL_SPEED}n8"
    return (templates or shipped()).render(GRUB_TEMPLATE, {"cmdline": cmdline, "serial_unit": unit, "speed": SERIAL_SPEED})


def mdadm_conf(scan: str, templates: Templates | None = None) -> str:
    """mdadm.conf from ``mdadm --detail --scan``'s lines (one ARRAY line per assembled array)."""
    arrays = [line.strip() for line in scan.splitlines() if line.strip()]
    for line in arrays:
        if not _MDADM_ARRAY.fullmatch(line):
            raise InvalidInput(f"unexpected line from mdadm --detail --scan: {line[:100]!r}")
    return (templates or shipped()).render(MDADM_TEMPLATE, {"arrays": arrays})


def apt_sources(plan: InstallPlan, templates: Templates | None = None) -> str:
    variables = {"mirror": plan.mirror, "security_mirror": plan.security_mirror, "release": plan.release}
    return (templates or shipped()).render(SOURCES_TEMPLATE, variables)


def policy_rc_d(templates: Templates | None = None) -> str:
    return (templates or shipped()).render(POLICY_TEMPLATE, {})


def dpkg_unsafe_io(templates: Templates | None = None) -> str:
    return (templates or shipped()).render(UNSAFE_IO_TEMPLATE, {})


def hostname(fqdn: str, templates: Templates | None = None) -> str:
    return (templates or shipped()).render(HOSTNAME_TEMPLATE, {"hostname": fqdn.split(".")[0]})
