"""Swift regions, locations, roles, clusters and networks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network

from oci import names
from oci.errors import InvalidInput
from oci.model.settings import CLUSTER_SETTINGS, Value, check_values

# Roles every installation has. Operators may add their own (``role-create``).
BUILTIN_ROLES = (
    "controller",
    "compute",
    "network",
    "volume",
    "messaging",
    "sql",
    "cephmon",
    "cephosd",
    "swiftproxy",
    "swiftstore",
    "billmon",
    "billosd",
    "dns",
    "tempest",
    "debmirror",
)


class NetworkRole(StrEnum):
    """Network roles that are not machine roles (reference §4.1, "special network roles")."""

    ALL = "all"  # every machine of the cluster in the network's location
    VM_NET = "vm-net"  # tunnels between VMs: computes and network nodes
    OVS_BRIDGE = "ovs-bridge"  # extra OVS bridge for provider networks, no addresses
    CEPH_CLUSTER = "ceph-cluster"  # Ceph replication network, OSDs only
    IPMI = "ipmi"  # BMC address pool
    VIP = "vip"  # pool for extra VIPs (messaging)


SPECIAL_ROLES = frozenset(r.value for r in NetworkRole)


@dataclass(frozen=True, slots=True)
class SwiftRegion:
    name: str

    def __post_init__(self) -> None:
        names.swift_region(self.name)


@dataclass(frozen=True, slots=True)
class Location:
    """A place machines sit in; it doubles as the Swift zone."""

    name: str
    swift_region: str

    def __post_init__(self) -> None:
        names.location(self.name)
        names.swift_region(self.swift_region)


@dataclass(frozen=True, slots=True)
class Role:
    """An operator-created role (built-in roles are not stored)."""

    name: str

    def __post_init__(self) -> None:
        names.role(self.name)
        if self.name in SPECIAL_ROLES:
            raise InvalidInput(f"'{self.name}' is reserved for special networking purposes")


@dataclass(frozen=True, slots=True)
class Cluster:
    name: str
    domain: str
    settings: dict[str, Value] = field(default_factory=dict)
    # Hostname counters per role: <cluster>-<role>-<N>. They never go down.
    role_counters: dict[str, int] = field(default_factory=dict)
    first_master: str | None = None  # serial of the controller that bootstraps the cluster

    def __post_init__(self) -> None:
        names.cluster(self.name)
        names.fqdn(self.domain)
        check_values(CLUSTER_SETTINGS, self.settings)
        for role, count in self.role_counters.items():
            names.role(role)
            if count < 0:
                raise InvalidInput(f"role counter of '{role}' is negative")
        if self.first_master is not None:
            names.serial(self.first_master)

    def setting(self, name: str) -> Value:
        value = self.settings.get(name, CLUSTER_SETTINGS[name].default)
        assert value is not None
        return value

    @property
    def api_hostname(self) -> str:
        custom = self.setting("vip_hostname")
        return str(custom) if custom else f"{self.name}-api.{self.domain}"


class AllocationKind(StrEnum):
    MACHINE = "machine"  # owner: the machine's serial
    VIP = "vip"  # owner: the VIP's use (api, sql, messaging)
    IPMI = "ipmi"  # owner: the machine's serial


@dataclass(frozen=True, slots=True, order=True)
class Allocation:
    address: IPv4Address
    kind: AllocationKind
    owner: str


@dataclass(frozen=True, slots=True)
class Network:
    """``networks/<name>.yaml``: a subnet, where it is attached, and the addresses allocated on it.

    The allocations live here, not in the machine files: a machine's addresses are few lookups in a few
    network files, and allocating needs only the network being allocated on.
    """

    name: str
    address: IPv4Address
    prefix: int
    location: str
    public: bool
    cluster: str | None = None
    role: str | None = None
    iface1: str | None = None
    iface2: str | None = None  # None: a single interface; set: a bond of iface1 and iface2
    vlan: int | None = None
    mtu: int | None = None
    bridge_name: str | None = None
    range_first: IPv4Address | None = None  # narrower range set with network-set --first-ip/--last-ip
    range_last: IPv4Address | None = None
    # An ``ipmi`` network numbers the BMCs of machines whose reports come from this network (the
    # provisioning subnet they sit on); None: every reporting machine.
    ipmi_match: IPv4Network | None = None
    allocations: tuple[Allocation, ...] = ()

    def __post_init__(self) -> None:
        names.network(self.name)
        names.location(self.location)
        if not 8 <= self.prefix <= 32:
            raise InvalidInput(f"prefix length {self.prefix} is outside 8..32")
        if self.subnet.network_address != self.address:
            raise InvalidInput(f"{self.address}/{self.prefix} is not a network address (did you mean {self.subnet}?)")
        # A BMC pool serves machines before they join a cluster, so it may have a role without a cluster.
        if self.cluster is None and self.role is not None and self.role != NetworkRole.IPMI.value:
            raise InvalidInput("a network has both a cluster and a role, or neither (except the ipmi role)")
        if self.cluster is not None and self.role is None:
            raise InvalidInput("a network attached to a cluster needs a role")
        if self.ipmi_match is not None and self.role != NetworkRole.IPMI.value:
            raise InvalidInput("only a network of role ipmi matches report addresses")
        if self.cluster is not None:
            names.cluster(self.cluster)
        if self.role is not None:
            names.role(self.role)
        for iface in (self.iface1, self.iface2):
            if iface is not None:
                names.interface(iface)
        if self.vlan is not None and not 1 <= self.vlan <= 4094:
            raise InvalidInput(f"VLAN {self.vlan} is outside 1..4094")
        if self.mtu is not None and not 68 <= self.mtu <= 65535:
            raise InvalidInput(f"MTU {self.mtu} is outside 68..65535")
        if (self.range_first is None) != (self.range_last is None):
            raise InvalidInput("first and last address of a range go together")
        seen = set()
        for a in self.allocations:
            if a.address in seen:
                raise InvalidInput(f"address {a.address} is allocated twice")
            seen.add(a.address)
            if a.address not in self.subnet:
                raise InvalidInput(f"allocated address {a.address} is outside {self.subnet}")

    @property
    def subnet(self) -> IPv4Network:
        return IPv4Network((self.address, self.prefix), strict=False)

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix}"


@dataclass(frozen=True, slots=True)
class Token:
    """``tokens/<name>.yaml`` (mode 0600): an API token, kept only as its SHA-256 digest."""

    name: str
    digest: str
    created: datetime

    def __post_init__(self) -> None:
        names.object_name(self.name, "token name")


@dataclass(frozen=True, slots=True)
class ClusterSecrets:
    """``secrets/<cluster>.yaml`` (mode 0600): the cluster's passwords and keys (oci.enc.secrets)."""

    cluster: str
    values: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names.cluster(self.cluster)


@dataclass(frozen=True, slots=True)
class BmcAccess:
    """``bmc/<serial>.yaml`` (mode 0600): how OCI reaches a machine's BMC; the password is never listed.

    Set by the operator (machine-set-ipmi), or by OCI when an ``ipmi`` network numbers the BMC: then
    ``network`` names that network, ``netmask``/``gateway``/``vlan`` complete the address, and ``pending``
    stays true until the machine reports its BMC at the address the agent was asked to give it.
    """

    serial: str
    use: bool
    address: str
    port: int = 623
    user: str = ""
    password: str = ""
    network: str | None = None
    netmask: IPv4Address | None = None
    gateway: IPv4Address | None = None
    vlan: int | None = None
    pending: bool = False

    def __post_init__(self) -> None:
        names.serial(self.serial)
        if not 0 < self.port < 65536:
            raise InvalidInput(f"BMC port {self.port} is outside 1..65535")
        if self.address:
            try:
                IPv4Address(self.address)
            except ValueError:
                names.fqdn(self.address, "BMC address")
        if self.network is not None:
            names.network(self.network)
        if self.vlan is not None and not 1 <= self.vlan <= 4094:
            raise InvalidInput(f"VLAN {self.vlan} is outside 1..4094")
