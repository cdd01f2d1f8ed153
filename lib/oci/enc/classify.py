"""What Puppet is told about each host: a pure function of the cluster as it is (docs/enc.md).

``classify(facts, host)`` returns Puppet's ENC document: ``classes`` (class -> parameters), ``parameters``
and ``environment``. Every decision that depends on the cluster's composition is a named function here,
listed with its condition and effect in docs/enc.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oci.enc import secrets as secret_table
from oci.model import Cluster, Network
from oci.model.settings import MACHINE_SETTINGS, Value
from oci.packagecache import cached_url
from oci.vips import VipUsage

ROLE_CLASS = {
    "controller": "oci::controller",
    "compute": "oci::compute",
    "network": "oci::network",
    "volume": "oci::volume",
    "messaging": "oci::messaging",
    "sql": "oci::sql",
    "cephmon": "oci::cephmon",
    "billmon": "oci::cephmon",
    "cephosd": "oci::cephosd",
    "billosd": "oci::cephosd",
    "swiftproxy": "oci::swiftproxy",
    "swiftstore": "oci::swiftstore",
    "dns": "oci::dns",
    "tempest": "oci::tempest",
    "debmirror": "oci::debmirror",
}


# The roles whose class takes ``machine_iface`` (keepalived's VIP, the Linux bridge agent's external network).
IFACE_ROLES = frozenset({"controller", "compute", "network"})


@dataclass(frozen=True)
class Host:
    serial: str
    hostname: str
    role: str
    location: str
    status: str
    puppet_status: str
    addresses: Mapping[str, str]  # network name -> address
    management_ip: str | None
    management_network: Network | None
    settings: Mapping[str, Value]  # as set on the machine (defaults come from the table)
    tls: Mapping[str, str] | None = None  # PEM: ca_chain, certificate (with the chain), key
    disks: tuple[str, ...] = ()  # block devices, in the order the machine reported them
    # The device its management address is on (a NIC, bond, VLAN or bridge, as oci-netconf configures it): where
    # keepalived puts the VIP, and the Linux bridge agent's external interface. None when its network cannot be
    # planned (oci-netconf refuses to install it then, saying why).
    management_iface: str | None = None
    # A Swift store's devices: the disks its install leaves alone (oci.install.layout.data_disks), as its rings
    # have them. Empty for other roles, and for a store whose disk layout is wrong (swift-calculate-ring says why).
    data_disks: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        return self.hostname.split(".", 1)[0]

    def setting(self, name: str) -> Value | None:
        return self.settings.get(name, MACHINE_SETTINGS[name].default)


@dataclass(frozen=True)
class ClusterFacts:
    cluster: Cluster
    hosts: tuple[Host, ...]  # hostname order, numbers in natural order
    vips: Mapping[str, tuple[Network, str]]  # VipUsage value -> (network, address)
    secrets: Mapping[str, str]
    ssh_user_ca: str | None = None  # the cluster's SSH user CA (public): root logs in with a signed key
    master_ip: str | None = None  # OCI's address ([network] oci_ip): the Puppet master, named "puppet" in /etc/hosts
    package_cache: str | None = None  # the master's apt-cacher-ng (http://HOST:PORT) nodes fetch Debian through
    api_tls: Mapping[str, str] | None = None  # PEM of the API name's certificate (with the chain) and key

    def with_role(self, *roles: str) -> list[Host]:
        return [h for h in self.hosts if h.role in roles]

    def has(self, *roles: str) -> bool:
        return any(h.role in roles for h in self.hosts)

    def setting(self, name: str) -> Value:
        return self.cluster.setting(name)


# ---------------------------------------------------------------------------------------- decisions
def ceph_osds(f: ClusterFacts) -> list[Host]:
    """OSD hosts: cephosd nodes, and hyper-converged computes (compute_is_cephosd)."""
    return [h for h in f.hosts if h.role == "cephosd" or (h.role == "compute" and h.setting("compute_is_cephosd") is True)]


def controllers_ready(f: ClusterFacts) -> bool:
    """Every controller installed and through a successful Puppet run."""
    masters = f.with_role("controller")
    return bool(masters) and all(h.status == "installed" and h.puppet_status == "success" for h in masters)


def bootstrapping_osd(f: ClusterFacts, host: Host) -> bool:
    """A hyper-converged compute (compute_is_cephosd) is first classified as a Ceph OSD only: its compute
    services need the controllers, which are not all up yet. It becomes a compute once they are."""
    return host.role == "compute" and host.setting("compute_is_cephosd") is True and not controllers_ready(f)


def ceph_monitors(f: ClusterFacts) -> list[Host]:
    """Monitors: the cephmon nodes; without any, the controllers act as monitors."""
    return f.with_role("cephmon") or f.with_role("controller")


def database_hosts(f: ClusterFacts) -> list[Host]:
    """Galera members: the sql nodes; without any, the controllers."""
    return f.with_role("sql") or f.with_role("controller")


def rabbit_hosts(f: ClusterFacts) -> list[Host]:
    """RabbitMQ members: the messaging nodes; without any, the controllers."""
    return f.with_role("messaging") or f.with_role("controller")


def has_swift(f: ClusterFacts) -> bool:
    """Swift answers: the cluster has stores, and proxies (Keystone's catalog has Swift through them)."""
    return f.has("swiftstore") and f.has("swiftproxy")


def glance_backend(f: ClusterFacts) -> str:
    """ceph when there are OSDs and glance_prefer_ceph_over_swift (default); else swift when there is Swift
    (stores and proxies); else ceph when there are OSDs; else file."""
    has_ceph, has_swift_ = bool(ceph_osds(f)), has_swift(f)
    if has_ceph and (f.setting("glance_prefer_ceph_over_swift") or not has_swift_):
        return "ceph"
    return "swift" if has_swift_ else "file"


def cinder_backup_backend(f: ClusterFacts) -> str:
    """swift when there is Swift (stores and proxies) and cinder_backup_prefer_swift (default); else ceph when
    there are OSDs; else swift if there is Swift; else none."""
    has_ceph, has_swift_ = bool(ceph_osds(f)), has_swift(f)
    if has_swift_ and (f.setting("cinder_backup_prefer_swift") or not has_ceph):
        return "swift"
    return "ceph" if has_ceph else "none"


def _vip(f: ClusterFacts, usage: VipUsage) -> tuple[str | None, int | None]:
    found = f.vips.get(usage.value)
    return (found[1], found[0].prefix) if found else (None, None)


def l2_agent_hosts(f: ClusterFacts) -> list[Host]:
    """The hosts that run Neutron's layer-2 agent: computes, network nodes, and controllers when there are none."""
    return f.with_role("compute", "network") if f.has("network") else f.with_role("compute", "controller")


def first_master(f: ClusterFacts) -> Host | None:
    """The cluster's first master (it bootstraps Keystone and the databases' schemas), else the first controller."""
    masters = f.with_role("controller")
    return next((h for h in masters if h.serial == f.cluster.first_master), masters[0] if masters else None)


def context(f: ClusterFacts) -> dict[str, Any]:
    """The parameters of ``oci::cluster``: the values that are the same for every host of the cluster, sent
    once per host document rather than copied into every role class. Only values some class reads are here
    (tests/unit/test_puppet_signatures.py ties this to the manifests)."""
    masters = f.with_role("controller")
    api_ip, _ = _vip(f, VipUsage.API)
    sql_ip, _ = _vip(f, VipUsage.SQL) if f.has("sql") else (api_ip, None)
    computes = f.with_role("compute")
    monitors = ceph_monitors(f) if ceph_osds(f) else []

    def names(hosts: list[Host]) -> list[str]:
        return [h.hostname for h in hosts]

    def ips(hosts: list[Host]) -> list[str | None]:
        return [h.management_ip for h in hosts]

    mirror = f.setting("debian_mirror")
    return {
        "region_name": f.setting("region_name"),
        "cluster_name": f.cluster.name,
        "vip_hostname": f.cluster.api_hostname,
        "vip_ipaddr": api_ip,
        "all_masters": names(masters),
        "all_masters_ip": ips(masters),
        "sql_vip_ip": sql_ip,
        "all_sql_ip": ips(database_hosts(f)),
        "all_rabbits": names(rabbit_hosts(f)),
        "has_subrole_db": not f.has("sql"),
        "has_subrole_messaging": not f.has("messaging"),
        "has_subrole_network_node": not f.has("network"),
        "has_subrole_compute_services": bool(computes),
        "has_subrole_cinder": bool(computes) and (bool(ceph_osds(f)) or f.has("volume")),
        "ceph_mon_initial_members": [h.short for h in monitors],
        "ceph_mon_host": ips(monitors),
        "glance_backend": glance_backend(f),
        "bgp_to_the_host": f.setting("bgp_to_the_host"),
        "time_server_host": f.setting("time_server_host"),
        # What the install wrote in the node's apt sources: through the master's package cache when it is on.
        "debian_mirror": cached_url(f.package_cache, mirror) if f.package_cache and isinstance(mirror, str) else mirror,
        "debian_release": f.setting("debian_release"),
        "ssh_user_ca": f.ssh_user_ca,
        "neutron_l2_agent": f.setting("neutron_l2_agent"),
        "neutron_vxlan_vni_min": f.setting("neutron_vxlan_vni_min"),
        "neutron_vxlan_vni_max": f.setting("neutron_vxlan_vni_max"),
        # The flat provider networks the agents bridge: the physical network name of each host with an L2 agent.
        "external_network_names": sorted({str(h.setting("neutron_external_network_name")) for h in l2_agent_hosts(f)}),
        # Swift's proxies: HAProxy on the API VIP balances them, and Keystone's catalog has Swift when there are some.
        "all_swiftproxy": names(f.with_role("swiftproxy")),
        "all_swiftproxy_ip": ips(f.with_role("swiftproxy")),
    }


# Hosts of these roles are many; listing them all in every host's /etc/hosts (as OCI 42 does) grows with the
# square of the cluster's size. Each host gets the control plane, the VIP names and itself.
_MANY = frozenset({"compute", "cephosd", "billosd", "swiftstore", "volume"})


def etc_hosts(f: ClusterFacts, host: Host) -> list[str]:
    """Lines of a host's /etc/hosts block: the Puppet master, the API and SQL VIP names, the control plane,
    and itself. Install time (oci.netconf.hosts) and Puppet (oci::generic) wrap them the same way."""
    lines = [f"{f.master_ip} puppet"] if f.master_ip else []
    api_ip, _ = _vip(f, VipUsage.API)
    if api_ip:
        lines.append(f"{api_ip} {f.cluster.api_hostname}")
    sql_ip, _ = _vip(f, VipUsage.SQL)
    if sql_ip:
        lines.append(f"{sql_ip} {f.cluster.name}-sql.{f.cluster.domain}")
    lines += [f"{h.management_ip} {h.hostname} {h.short}" for h in f.hosts if h.management_ip and (h.role not in _MANY or h is host)]
    return lines


def classify(f: ClusterFacts, host: Host, shared: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The host's ENC document. ``shared`` is ``context(f)``, computed once for all the hosts of a cluster."""
    generic = {
        "machine_role": host.role,
        "machine_ip": host.management_ip,
        "etc_hosts": etc_hosts(f, host),
        # The host's own certificate and key from OCI's PKI, and the chain to trust (its key goes to it alone).
        "ssl_ca_chain": host.tls["ca_chain"] if host.tls else None,
        "ssl_certificate": host.tls["certificate"] if host.tls else None,
        "ssl_key": host.tls["key"] if host.tls else None,
    }
    classes: dict[str, Any] = {"oci::generic": generic, "oci::cluster": dict(shared if shared is not None else context(f))}
    role = "cephosd" if bootstrapping_osd(f, host) else host.role
    role_class = ROLE_CLASS.get(role)
    if role_class is not None:
        classes[role_class] = {**role_values(f, host, role), **secret_table.for_role(role, f.secrets)}
    return {
        "classes": classes,
        "parameters": {"oci_cluster": f.cluster.name, "oci_role": host.role, "oci_serial": host.serial},
        "environment": "production",
    }


# A compute's own settings its class takes as they are (nova.conf's allocation ratios and reserved resources).
NOVA_HOST_SETTINGS = ("cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio", "nova_reserved_host_memory_mb",
                      "nova_reserved_host_disk_mb")  # fmt: skip


def cpu_values(f: ClusterFacts, host: Host) -> dict[str, Any]:
    """A compute's libvirt CPU model and nested virtualisation: its own settings, or the cluster's where it says
    ``cluster_value``. Puppet applies the CPU mode only with KVM (with qemu, libvirt emulates a CPU of its own)."""

    def own_or_cluster(name: str) -> Any:
        value = host.setting(name)
        return f.setting(name) if value == "cluster_value" else value

    mode, model = own_or_cluster("cpu_mode"), own_or_cluster("cpu_model")
    flags = str(f.setting("cpu_model_extra_flags"))
    nested = host.setting("nested_virt")
    return {
        "cpu_mode": mode,
        "cpu_models": [model] if mode == "custom" and model else [],
        "cpu_model_extra_flags": flags.split(",") if flags else [],
        "nested_virt": f.setting("nested_virt") is True if nested == "cluster_value" else nested == "yes",
    }


def role_values(f: ClusterFacts, host: Host, role: str) -> dict[str, Any]:
    """The per-host parameters of the role's class (what differs from host to host), secrets apart."""
    if role == "controller":
        first = first_master(f)
        # The API name's certificate and key: HAProxy on the VIP serves every endpoint with them.
        return {"machine_hostname": host.hostname, "machine_ip": host.management_ip, "machine_iface": host.management_iface,
                "external_network_name": host.setting("neutron_external_network_name"),
                "is_first_master": first is not None and host.hostname == first.hostname,
                "api_ssl_certificate": f.api_tls["certificate"] if f.api_tls else None,
                "api_ssl_key": f.api_tls["key"] if f.api_tls else None}  # fmt: skip
    if role == "compute":
        return {
            "machine_ip": host.management_ip,
            "machine_iface": host.management_iface,
            "has_subrole_dhcp_agent": not f.has("network") or host.setting("force_dhcp_agent") is True,
            "virt_type": f.setting("virt_type"),
            "external_network_name": host.setting("neutron_external_network_name"),
            **{k: host.setting(k) for k in NOVA_HOST_SETTINGS},
            **cpu_values(f, host),
        }
    if role == "cephmon":
        return {"machine_ip": host.management_ip}
    if role == "cephosd":
        # Every disk but the first, which holds the system (as in OCI 42).
        return {"block_devices": [f"/dev/{name}" for name in host.disks[1:]]}
    if role == "network":
        return {"machine_ip": host.management_ip, "machine_iface": host.management_iface,
                "external_network_name": host.setting("neutron_external_network_name")}  # fmt: skip
    if role == "swiftstore":
        rings = [ring for ring in ("account", "container", "object") if host.setting(f"swift_store_{ring}") is not False]
        return {"machine_ip": host.management_ip, "block_devices": list(host.data_disks), "rings": rings}
    if role in ("volume", "messaging", "sql", "swiftproxy"):
        return {"machine_ip": host.management_ip}
    return {}
