"""The PoC lab as data: its network, and each VM with its hardware and its BMC (pure: no I/O).

The lab is one network namespace, ``oci-poc``, holding the master's side of the provisioning network (a
bridge with the master's address, DHCP on its upper half) and the BMCs' network beside it on the same bridge.
Each VM gets its own hardware (SMBIOS serial and product, NICs, disks, firmware) so the reports differ as a
rack's would, and its own ``ipmi_sim`` BMC: the master powers it on and off over IPMI, and the guest sees the
same BMC in-band (qemu's ``ipmi-bmc-extern`` behind an ``isa-ipmi-kcs`` interface), where the live agent
numbers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from oci.errors import InvalidInput
from oci.model import BUILTIN_ROLES

NAMESPACE = "oci-poc"
BRIDGE = "br0"
PROVISIONING = IPv4Network("10.254.0.0/24")  # DHCP hands out the upper half; installed hosts get the lower one
MASTER = IPv4Address("10.254.0.1")
MANAGEMENT_FIRST, MANAGEMENT_LAST = IPv4Address("10.254.0.10"), IPv4Address("10.254.0.99")
BMC_NETWORK = IPv4Network("10.254.1.0/24")  # the cluster's ipmi network: what the agent numbers BMCs from
BMC_MASTER = IPv4Address("10.254.1.1")
BMC_FIRST, BMC_LAST = IPv4Address("10.254.1.10"), IPv4Address("10.254.1.99")
# Where each simulator listens before any address is set (and where the master reaches it through the
# address the agent set: main adds a DNAT per numbered BMC). Out of the pool, so no allocation lands on one.
BMC_LISTEN_BASE = IPv4Address("10.254.1.200")
BMC_USER, BMC_PASSWORD = "ipmiusr", "test"  # the simulators' factory account (OCI's own is set by the agent)
VM_CHARDEV_BASE_PORT = 9100  # qemu's ipmi-bmc-extern connects to its simulator on 127.0.0.1:<base + index>

# Memory: what the master's side needs beside the VMs (puppetserver's JVM 1.1 GB resident, apt-cacher-ng,
# oci-api, dhcpd, the host itself), and what qemu takes above a guest's RAM under TCG (its translation cache).
MASTER_RESERVE_MIB = 4096
QEMU_OVERHEAD_MIB = 320
VM_MEMORY_MIB = 2048  # the install and oci::generic's first Puppet run fit; a controller would not
VM_CPUS = 2
MAX_VMS = 16
# Roles whose catalog is oci::generic alone: what a small VM applies in minutes under TCG.
SMALL_ROLES = ("dns", "debmirror", "tempest")


@dataclass(frozen=True, slots=True)
class Hardware:
    """What makes one VM's report differ from another's."""

    product: str
    nics: int
    disks_gib: tuple[int, ...]
    uefi: bool


# A small rack's variety, cycled through: one disk or two (installed on RAID 1), one NIC or two, BIOS or UEFI.
MODELS = (
    Hardware("OCI PoC 1U", nics=1, disks_gib=(10,), uefi=False),
    Hardware("OCI PoC 2U", nics=2, disks_gib=(10, 10), uefi=False),
    Hardware("OCI PoC 1U UEFI", nics=2, disks_gib=(12,), uefi=True),
)


@dataclass(frozen=True, slots=True)
class Vm:
    """One virtual server and its BMC."""

    index: int  # 1-based
    serial: str  # SMBIOS system serial: what OCI knows the machine by
    hardware: Hardware
    role: str
    memory_mib: int
    cpus: int

    @property
    def name(self) -> str:
        return f"vm{self.index}"

    @property
    def macs(self) -> tuple[str, ...]:
        return tuple(f"52:54:00:0c:{self.index:02x}:{nic:02x}" for nic in range(self.hardware.nics))

    @property
    def taps(self) -> tuple[str, ...]:
        return tuple(f"{self.name}n{nic}" for nic in range(self.hardware.nics))

    @property
    def bmc_listen(self) -> IPv4Address:
        return BMC_LISTEN_BASE + self.index

    @property
    def chardev_port(self) -> int:
        return VM_CHARDEV_BASE_PORT + self.index


@dataclass(frozen=True, slots=True)
class Lab:
    vms: tuple[Vm, ...]

    @property
    def memory_mib(self) -> int:
        """What the lab needs: the VMs with qemu's overhead, and the master's side."""
        return MASTER_RESERVE_MIB + sum(vm.memory_mib + QEMU_OVERHEAD_MIB for vm in self.vms)

    @property
    def taps(self) -> tuple[str, ...]:
        return tuple(tap for vm in self.vms for tap in vm.taps)


def fitting(memory_mib: int, vm_memory_mib: int = VM_MEMORY_MIB) -> int:
    """How many VMs fit ``memory_mib`` beside the master's side (24 GiB: 8 of 2 GiB)."""
    return max(0, (memory_mib - MASTER_RESERVE_MIB) // (vm_memory_mib + QEMU_OVERHEAD_MIB))


def default_count(memory_mib: int, cores: int) -> int:
    """The default number of VMs: what memory allows, but no more than one per core plus one. Under TCG an install
    is CPU-bound (dpkg, the initramfs): beyond that, VMs only slow each other down."""
    return max(1, min(fitting(memory_mib), cores + 1, MAX_VMS))


def plan(count: int, roles: tuple[str, ...] = SMALL_ROLES, memory_mib: int = VM_MEMORY_MIB) -> Lab:
    """``count`` VMs, their hardware cycled through ``MODELS`` and their roles through ``roles``. Serials follow
    the reference PoC's (``C1``, ``C2``... : hex(0xC0 + index))."""
    if not 1 <= count <= MAX_VMS:
        raise InvalidInput(f"--count must be from 1 to {MAX_VMS}, not {count}")
    if not roles:
        raise InvalidInput("--roles: give at least one role")
    unknown = [role for role in roles if role not in BUILTIN_ROLES]
    if unknown:
        raise InvalidInput(f"--roles: unknown role {unknown[0]!r} (one of {', '.join(BUILTIN_ROLES)})")
    if memory_mib < 1024:
        raise InvalidInput(f"--memory must be at least 1024 MiB (the live image runs from RAM), not {memory_mib}")
    vms = tuple(
        Vm(index, f"{0xC0 + index:X}", MODELS[(index - 1) % len(MODELS)], roles[(index - 1) % len(roles)], memory_mib, VM_CPUS)
        for index in range(1, count + 1)
    )
    return Lab(vms)
