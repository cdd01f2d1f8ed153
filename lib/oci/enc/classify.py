"""What Puppet is told about each host: a pure function of the cluster as it is (docs/enc.md).

``classify(facts, host)`` returns Puppet's ENC document: ``classes`` (class -> parameters), ``parameters``
and ``environment``. Every decision that depends on the cluster's composition is a named function here,
listed with its condition and effect in docs/enc.md.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oci.enc import secrets as secret_table
from oci.model import Cluster, Network
from oci.model.settings import MACHINE_SETTINGS, Value
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


def glance_backend(f: ClusterFacts) -> str:
    """ceph when there are OSDs and glance_prefer_ceph_over_swift (default); else swift when there are
    Swift stores; else ceph when there are OSDs; else file."""
    has_ceph, has_swift = bool(ceph_osds(f)), f.has("swiftstore")
    if has_ceph and (f.setting("glance_prefer_ceph_over_swift") or not has_swift):
        return "ceph"
    return "swift" if has_swift else "file"


def cinder_backup_backend(f: ClusterFacts) -> str:
    """swift when there are Swift stores and cinder_backup_prefer_swift (default); else ceph when there are
    OSDs; else swift if there are stores; else none."""
    has_ceph, has_swift = bool(ceph_osds(f)), f.has("swiftstore")
    if has_swift and (f.setting("cinder_backup_prefer_swift") or not has_ceph):
        return "swift"
    return "ceph" if has_ceph else "none"


def _vip(f: ClusterFacts, usage: VipUsage) -> tuple[str | None, int | None]:
    found = f.vips.get(usage.value)
    return (found[1], found[0].prefix) if found else (None, None)


def context(f: ClusterFacts) -> dict[str, Any]:
    """Values every role class draws from (each role gets the keys listed for it in ROLE_KEYS)."""
    masters = f.with_role("controller")
    first = next((h for h in masters if h.serial == f.cluster.first_master), masters[0] if masters else None)
    db = database_hosts(f)
    first_sql = db[0] if db else None
    rabbits = rabbit_hosts(f)
    monitors = ceph_monitors(f)
    api_ip, api_prefix = _vip(f, VipUsage.API)
    sql_ip, sql_prefix = _vip(f, VipUsage.SQL) if f.has("sql") else (api_ip, api_prefix)
    messaging_ip, _ = _vip(f, VipUsage.MESSAGING)
    computes = f.with_role("compute")

    def names(hosts: list[Host]) -> list[str]:
        return [h.hostname for h in hosts]

    def ips(hosts: list[Host]) -> list[str | None]:
        return [h.management_ip for h in hosts]

    return {
        "region_name": f.setting("region_name"),
        "openstack_release": f.setting("debian_release"),
        "cluster_name": f.cluster.name,
        "cluster_domain": f.cluster.domain,
        "vip_hostname": f.cluster.api_hostname,
        "vip_ipaddr": api_ip,
        "vip_netmask": str(ipaddress.IPv4Network(f"0.0.0.0/{api_prefix}").netmask) if api_prefix is not None else None,
        "self_signed_api_cert": f.setting("self_signed_api_cert"),
        "initial_cluster_setup": f.setting("initial_cluster_setup"),
        "first_master": first.hostname if first else None,
        "first_master_ip": first.management_ip if first else None,
        "all_masters": names(masters),
        "all_masters_ip": ips(masters),
        "sql_vip_ip": sql_ip,
        "first_sql": first_sql.hostname if first_sql else None,
        "first_sql_ip": first_sql.management_ip if first_sql else None,
        "all_sql": names(db),
        "all_sql_ip": ips(db),
        "all_rabbits": names(rabbits),
        "all_rabbits_ips": ips(rabbits),
        "messaging_vip_ipaddr": messaging_ip,
        "has_subrole_db": not f.has("sql"),
        "has_subrole_messaging": not f.has("messaging"),
        "has_subrole_network_node": not f.has("network"),
        "has_subrole_swift": f.has("swiftstore"),
        "has_subrole_compute_services": bool(computes),
        "has_subrole_cinder": bool(computes) and (bool(ceph_osds(f)) or f.has("volume")),
        "cluster_has_osds": bool(ceph_osds(f)),
        "cluster_has_mons": f.has("cephmon"),
        "ceph_mon_initial_members": [h.short for h in monitors] if ceph_osds(f) else [],
        "ceph_mon_host": ips(monitors) if ceph_osds(f) else [],
        "glance_backend": glance_backend(f),
        "cinder_backup_backend": cinder_backup_backend(f),
        "compute_nodes": names(computes),
        "compute_nodes_ip": ips(computes),
        "volume_nodes": names(f.with_role("volume")),
        "all_swiftproxy": names(f.with_role("swiftproxy")),
        "all_swiftproxy_ip": ips(f.with_role("swiftproxy")),
        "all_swiftstore": names(f.with_role("swiftstore")),
        "all_swiftstore_ip": ips(f.with_role("swiftstore")),
        "time_server_host": f.setting("time_server_host"),
        "install_octavia": f.setting("install_octavia"),
        "install_designate": f.setting("install_designate"),
        "install_telemetry": f.setting("install_telemetry") and bool(ceph_osds(f)),
        "bgp_to_the_host": f.setting("bgp_to_the_host"),
    }


_BASE = (
    "region_name",
    "cluster_name",
    "cluster_domain",
    "vip_hostname",
    "vip_ipaddr",
    "self_signed_api_cert",
    "all_masters",
    "all_masters_ip",
    "first_master",
    "first_master_ip",
)
_CEPH = ("cluster_has_osds", "ceph_mon_initial_members", "ceph_mon_host")
ROLE_KEYS: dict[str, tuple[str, ...]] = {
    "controller": (*_BASE, "openstack_release", "vip_netmask", "initial_cluster_setup", "sql_vip_ip", "first_sql", "first_sql_ip",
                   "all_sql", "all_sql_ip", "all_rabbits", "all_rabbits_ips", "messaging_vip_ipaddr", "has_subrole_db",
                   "has_subrole_messaging", "has_subrole_network_node", "has_subrole_swift", "has_subrole_compute_services",
                   "has_subrole_cinder", *_CEPH, "cluster_has_mons", "glance_backend", "cinder_backup_backend", "compute_nodes",
                   "compute_nodes_ip", "volume_nodes", "all_swiftproxy", "all_swiftproxy_ip", "install_octavia", "install_designate",
                   "install_telemetry", "bgp_to_the_host"),
    "compute": (*_BASE, "openstack_release", "sql_vip_ip", "all_rabbits", "all_rabbits_ips", *_CEPH, "bgp_to_the_host",
                "has_subrole_network_node"),
    "network": (*_BASE, "openstack_release", "all_rabbits", "all_rabbits_ips", "bgp_to_the_host"),
    "volume": (*_BASE, "openstack_release", "sql_vip_ip", "all_rabbits", "all_rabbits_ips", *_CEPH, "cinder_backup_backend"),
    "messaging": (*_BASE, "initial_cluster_setup", "all_rabbits", "all_rabbits_ips", "messaging_vip_ipaddr"),
    "sql": (*_BASE, "initial_cluster_setup", "sql_vip_ip", "first_sql", "first_sql_ip", "all_sql", "all_sql_ip"),
    "cephmon": (*_BASE, *_CEPH),
    "cephosd": (*_BASE, *_CEPH),
    "swiftproxy": (*_BASE, "all_swiftproxy", "all_swiftproxy_ip", "all_swiftstore", "all_swiftstore_ip"),
    "swiftstore": (*_BASE, "all_swiftproxy_ip", "all_swiftstore", "all_swiftstore_ip"),
    "dns": _BASE,
    "tempest": _BASE,
    "debmirror": _BASE,
}  # fmt: skip


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
    values = shared if shared is not None else context(f)
    generic = {
        "machine_hostname": host.hostname,
        "machine_role": host.role,
        "machine_ip": host.management_ip,
        "cluster_name": f.cluster.name,
        "cluster_domain": f.cluster.domain,
        "time_server_host": values["time_server_host"],
        "nameservers": [str(v) for v in (f.setting("nameserver_v4_primary"), f.setting("nameserver_v4_secondary")) if v],
        "etc_hosts": etc_hosts(f, host),
        "ssh_listen_ips": ["127.0.0.1", *sorted(host.addresses.values())],
        # The host's own certificate and key from OCI's PKI, and the chain to trust (its key goes to it alone).
        "ssl_ca_chain": host.tls["ca_chain"] if host.tls else None,
        "ssl_certificate": host.tls["certificate"] if host.tls else None,
        "ssl_key": host.tls["key"] if host.tls else None,
        "ssh_user_ca": f.ssh_user_ca,
        "debian_mirror": f.setting("debian_mirror"),
        "debian_release": f.setting("debian_release"),
    }
    classes: dict[str, Any] = {"oci::generic": generic}
    role = "cephosd" if bootstrapping_osd(f, host) else host.role
    role_class = ROLE_CLASS.get(role)
    if role_class is not None:
        role_values = {k: values[k] for k in ROLE_KEYS[role]}
        network = host.management_network
        role_values.update(
            {
                "machine_hostname": host.hostname,
                "machine_ip": host.management_ip,
                "network_ipaddr": str(network.address) if network else None,
                "network_cidr": network.prefix if network else None,
                "is_first_master": host.hostname == values["first_master"],
                **secret_table.for_role(role, f.secrets),
            }
        )
        if host.role == "sql" or (host.role == "controller" and values["has_subrole_db"]):
            role_values["is_first_sql"] = host.hostname == values["first_sql"]
        if role == "compute":
            role_values["has_subrole_dhcp_agent"] = values["has_subrole_network_node"] or host.setting("force_dhcp_agent") is True
            role_values.update({k: host.setting(k) for k in ("use_ceph_if_available", "cpu_allocation_ratio", "ram_allocation_ratio",
                                                             "nova_reserved_host_memory_mb")})  # fmt: skip
            nested = host.setting("nested_virt")
            role_values["nested_virt"] = f.setting("nested_virt") if nested == "cluster_value" else nested == "yes"
        if role == "cephosd":
            # Every disk but the first, which holds the system (as in OCI 42).
            role_values["block_devices"] = [f"/dev/{name}" for name in host.disks[1:]]
        if role in ("swiftstore", "swiftproxy"):
            role_values["zone"] = host.location
        classes[role_class] = role_values
    return {
        "classes": classes,
        "parameters": {"oci_cluster": f.cluster.name, "oci_role": host.role, "oci_serial": host.serial},
        "environment": "production",
    }
