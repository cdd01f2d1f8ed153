"""What a network-booting machine runs next, as an iPXE script (a pure decision over the machine's state).

A machine OCI does not know, or one in (or on its way to) the live image, gets the live image; a machine
whose system is installed (``firstboot``, ``installed``) boots its own disk, so it never loops back into
the live image after its install, whatever its firmware's boot order says.
"""

from __future__ import annotations

from enum import StrEnum

from oci.boot.site import BootSite
from oci.model import Machine, MachineStatus

LIVE_FILES = ("vmlinuz", "initrd.img", "filesystem.squashfs")
_DISK_STATES = (MachineStatus.FIRSTBOOT, MachineStatus.INSTALLED)


class Boot(StrEnum):
    LIVE = "live"
    DISK = "disk"


def choose(machine: Machine | None) -> Boot:
    return Boot.DISK if machine is not None and machine.status in _DISK_STATES else Boot.LIVE


def entry_script(site: BootSite) -> str:
    """What DHCP points iPXE at: ask again, saying who we are (iPXE cannot put its variables in a DHCP URL)."""
    return f"#!ipxe\nchain {site.url}/boot/ipxe?mac=${{net0/mac}}&serial=${{serial:uristring}}\n"


def live_script(site: BootSite) -> str:
    base = f"{site.url}/boot/live"
    # initrd= is needed by UEFI iPXE builds (environment-notes §4); oci.master tells the agent where to report.
    args = f"initrd=initrd.img boot=live fetch={base}/filesystem.squashfs oci.master={site.url} {site.kernel_args}".strip()
    return f"#!ipxe\necho OCI: booting the live image\nkernel {base}/vmlinuz {args}\ninitrd {base}/initrd.img\nboot\n"


def disk_script(serial: str) -> str:
    # UEFI: leave iPXE, so the firmware tries its next boot entry (the installed system); BIOS: boot disk 0x80.
    return (
        "#!ipxe\n"
        f"echo OCI: {serial} is installed: booting from its disk\n"
        "iseq ${platform} efi && exit 0 ||\n"
        "sanboot --no-describe --drive 0x80 || exit 0\n"
    )


def script(site: BootSite, machine: Machine | None) -> str:
    if choose(machine) is Boot.DISK:
        assert machine is not None
        return disk_script(machine.serial)
    return live_script(site)
