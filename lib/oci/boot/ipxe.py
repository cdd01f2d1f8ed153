"""What a network-booting machine runs next, as an iPXE script (a pure decision over the machine's state).

A machine OCI does not know, or one in (or on its way to) the live image, gets the live image; a machine
being installed or whose system is installed (``installing``, ``firstboot``, ``installed``) boots its own
disk, so it never loops back into the live image after its install, whatever its firmware's boot order
says, even when the installer's last report (``firstboot``, sent just before it reboots) was lost. A failed
install reports ``live`` and gets the live image again; a machine cut off in the middle of its install
stays ``installing`` until the operator sends it back (``machine-ipmi-reboot-on-live``).
"""

from __future__ import annotations

from enum import StrEnum

from oci.boot.site import BootSite
from oci.model import Machine, MachineStatus
from oci.templates import Templates, shipped

LIVE_FILES = ("vmlinuz", "initrd.img", "filesystem.squashfs")
_DISK_STATES = (MachineStatus.INSTALLING, MachineStatus.FIRSTBOOT, MachineStatus.INSTALLED)
ENTRY_TEMPLATE = "ipxe-entry.ipxe.j2"
LIVE_TEMPLATE = "ipxe-live.ipxe.j2"
DISK_TEMPLATE = "ipxe-disk.ipxe.j2"


class Boot(StrEnum):
    LIVE = "live"
    DISK = "disk"


def choose(machine: Machine | None) -> Boot:
    return Boot.DISK if machine is not None and machine.status in _DISK_STATES else Boot.LIVE


def entry_script(site: BootSite, templates: Templates | None = None) -> str:
    """What DHCP points iPXE at: ask again, saying who we are (iPXE cannot put its variables in a DHCP URL)."""
    return (templates or shipped()).render(ENTRY_TEMPLATE, {"url": site.url})


def live_script(site: BootSite, templates: Templates | None = None) -> str:
    base = f"{site.url}/boot/live"
    # initrd= is needed by UEFI iPXE builds (environment-notes §4); oci.master tells the agent where to report.
    args = f"initrd=initrd.img boot=live fetch={base}/filesystem.squashfs oci.master={site.url} {site.kernel_args}".strip()
    return (templates or shipped()).render(LIVE_TEMPLATE, {"base": base, "kernel_args": args})


def disk_script(serial: str, templates: Templates | None = None) -> str:
    return (templates or shipped()).render(DISK_TEMPLATE, {"serial": serial})


def script(site: BootSite, machine: Machine | None, templates: Templates | None = None) -> str:
    if choose(machine) is Boot.DISK:
        assert machine is not None
        return disk_script(machine.serial, templates)
    return live_script(site, templates)
