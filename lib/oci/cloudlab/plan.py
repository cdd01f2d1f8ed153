"""The cloud lab as data (pure: no I/O): its nodes, the master's addresses on the lab's networks, what the
operator types to describe the cluster, and what of an install plan a container takes.

The lab reuses the PoC's network (lib/oci/pocvms/network.py) in a namespace of its own: the management network
is the PoC's provisioning network, with the master on it; the public network, where the API's VIP lives, shares
its bridge. Each node is a systemd-nspawn container in a namespace of its own, its ``eth0`` on that bridge.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from oci.install import plan as install_plan
from oci.pocvms import plan as poc_plan

NAMESPACE = "oci-cloud"
REGION, LOCATION, CLUSTER, DOMAIN = "r1", "loc1", "cl1", "cloud.example"
API_PORT, PUPPET_PORT = 8000, 8140
MANAGEMENT = poc_plan.PROVISIONING
MANAGEMENT_FIRST, MANAGEMENT_LAST = poc_plan.MANAGEMENT_FIRST, poc_plan.MANAGEMENT_LAST
PUBLIC = IPv4Network("10.254.2.0/24")  # the cluster's public network: the API's VIP, the routers' gateways
PUBLIC_MASTER = IPv4Address("10.254.2.1")  # the master's address there: the checks reach the VIP from it
NIC = "eth0"
# Packages of an install plan a container has no use for: it boots no kernel of its own and has no disk to format.
NOT_IN_CONTAINERS = frozenset(
    {install_plan.KERNEL_PACKAGE, "initramfs-tools", "zstd", "e2fsprogs", "dosfstools", "mdadm", "grub-pc", "grub-pc-bin",
     "grub-efi-amd64", "grub-efi-amd64-signed", "shim-signed"}
)  # fmt: skip
# What every container needs beyond the plan's packages: apt reaches the cache by HTTP (no https transport is
# needed), Puppet installs the rest.
CONTAINER_EXTRAS = ("systemd", "dbus", "gnupg")


@dataclass(frozen=True, slots=True)
class Node:
    """One node: a container with its own network namespace."""

    index: int  # 1-based
    name: str
    serial: str
    role: str

    @property
    def namespace(self) -> str:
        return f"{NAMESPACE}-{self.name}"

    @property
    def lab_link(self) -> str:
        """The host end of its veth, on the lab's bridge (the node's end is its ``eth0``)."""
        return f"cl{self.index}{self.name}"

    @property
    def mac(self) -> str:
        return f"52:54:00:0d:00:{self.index:02x}"


# The smallest useful cluster: one controller with every control-plane service (and the sql and messaging
# roles, as OCI 42 does when the cluster has none), one compute; and the smallest Swift: one proxy, one store.
NODES = (Node(1, "ctl", "CL1", "controller"), Node(2, "cmp", "CL2", "compute"), Node(3, "swp", "CL3", "swiftproxy"),
         Node(4, "sws", "CL4", "swiftstore"))  # fmt: skip
# The store's data disk, beside the system's in its report: its one device in the rings (a folder in its container).
STORE_DISK = "vdb"


def operator_commands() -> tuple[tuple[str, ...], ...]:
    """The ocicli commands that describe the lab's cluster, as an operator types them."""
    return (
        ("swift-region-create", REGION),
        ("location-create", LOCATION, REGION),
        ("network-create", "mgmt", str(MANAGEMENT.network_address), str(MANAGEMENT.prefixlen), LOCATION, "no"),
        ("network-set", "mgmt", "--first-ip", str(MANAGEMENT_FIRST), "--last-ip", str(MANAGEMENT_LAST)),
        ("network-create", "pub", str(PUBLIC.network_address), str(PUBLIC.prefixlen), LOCATION, "yes"),
        ("network-set", "pub", "--first-ip", str(PUBLIC_MASTER + 9), "--last-ip", str(PUBLIC_MASTER + 98)),
        ("cluster-create", CLUSTER, DOMAIN),
        ("network-add", "mgmt", CLUSTER, "all", NIC),
        ("network-add", "pub", CLUSTER, "all", NIC),
        # No KVM here, and no Open vSwitch kernel module: qemu emulates, Linux bridges switch. One Swift device:
        # one replica, and a partition power that keeps its rebalance short.
        ("cluster-set", CLUSTER, "--virt-type", "qemu", "--neutron-l2-agent", "linuxbridge", "--swift-replicas", "1",
         "--swift-part-power", "8"),
    )  # fmt: skip


def container_packages(packages: tuple[str, ...]) -> tuple[str, ...]:
    """An install plan's packages, less what a container has no use for, plus what it needs (sorted, unique)."""
    return tuple(sorted({p for p in packages if p not in NOT_IN_CONTAINERS} | set(CONTAINER_EXTRAS)))


# What a container needs that a server does not, written into its root before it boots (path -> content). A
# container's cgroups are read-only: libvirt must not try to make a group per VM (an empty qemu.conf means
# libvirt's defaults; dpkg keeps a configuration file it finds at install, as Puppet's apt runs it).
LIBVIRT_QEMU_CONF = """\
# Written by OCI's cloud lab: this compute is a container, whose cgroups are read-only.
cgroup_controllers = [ ]
"""


def container_files(role: str) -> dict[str, str]:
    """The files a container of ``role`` gets before it boots, beyond its install bundle (relative paths)."""
    return {"etc/libvirt/qemu.conf": LIBVIRT_QEMU_CONF} if role == "compute" else {}


def api_hostname() -> str:
    return f"{CLUSTER}-api.{DOMAIN}"
