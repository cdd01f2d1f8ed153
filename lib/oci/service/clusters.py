"""Clusters: create, configure, inspect, delete."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from oci import checks, names, vips
from oci.enc import refresh as enc_refresh
from oci.enc import secrets as cluster_secrets
from oci.errors import Conflict, InvalidInput, NotFound
from oci.model import AllocationKind, Cluster, ClusterSecrets, Network
from oci.model.settings import CLUSTER_SETTINGS, effective
from oci.naming import natural_key
from oci.pki import ssh
from oci.placement import ClusterView
from oci.service import certificates
from oci.service.networks import describe
from oci.service.topology import role_exists
from oci.service.views import machine_views, members
from oci.store import Store


def create(store: Store, name: str, domain: str) -> dict[str, Any]:
    cluster = Cluster(names.cluster(name), names.fqdn(domain))
    with store.topology_lock():
        if store.find(Cluster, name):
            raise Conflict(f"cluster '{name}' already exists")
        tx = store.transaction()
        tx.put(cluster)
        tx.put(ClusterSecrets(name, cluster_secrets.generate()))
        tx.commit()
    certificates.for_api(store, cluster.api_hostname)
    ssh.ensure_cas(store, name)
    return {"name": name, "domain": domain}


def list_(store: Store) -> list[dict[str, Any]]:
    return [{"name": c.name, "domain": c.domain} for c in store.all(Cluster)]


def view(store: Store, name: str) -> ClusterView:
    cluster = store.get(Cluster, names.cluster(name))
    return ClusterView.build(cluster, store.all(Network), members(machine_views(store)))


def show(store: Store, name: str) -> dict[str, Any]:
    v = view(store, name)
    reserved = vips.current(v)
    counts: dict[str, int] = {}
    for m in v.members:
        counts[m.role] = counts.get(m.role, 0) + 1
    sql_vip = vips.sql_vip(v)
    return {
        "name": v.cluster.name,
        "domain": v.cluster.domain,
        "api_hostname": v.cluster.api_hostname,
        "first_master": v.cluster.first_master,
        "vips": {usage.value: {"network": net.name, "address": str(addr)} for usage, (net, addr) in sorted(reserved.items())},
        "sql_vip_address": str(sql_vip) if sql_vip else None,
        "machines_per_role": dict(sorted(counts.items())),
        "role_counters": dict(sorted(v.cluster.role_counters.items())),
        "networks": [n.name for n in v.networks],
        "settings": effective(CLUSTER_SETTINGS, v.cluster.settings),
        "problems": checks.problems(v),
    }


def check(store: Store, name: str) -> list[str]:
    return checks.problems(view(store, name))


@enc_refresh.follows
def set_(store: Store, name: str, values: dict[str, Any], unset: list[str], first_master: str | None = None) -> dict[str, Any]:
    for key in unset:
        if key not in CLUSTER_SETTINGS:
            raise InvalidInput(f"unknown cluster setting '{key}'")
    if not values and not unset and first_master is None:
        raise InvalidInput("nothing to change", hint="give at least one option, see cluster-set --help")
    with store.topology_lock():
        cluster = store.get(Cluster, names.cluster(name))
        settings = {k: v for k, v in {**cluster.settings, **values}.items() if k not in unset}
        updated = replace(cluster, settings=settings)
        if first_master is not None:
            names.serial(first_master)
            controllers = [m.serial for m in members(machine_views(store)) if m.cluster == name and m.role == "controller"]
            if first_master not in controllers:
                raise InvalidInput(f"machine {first_master} is not a controller of cluster {name}")
            updated = replace(updated, first_master=first_master)
        tx = store.transaction()
        tx.put(updated)
        tx.commit()
    if updated.api_hostname != cluster.api_hostname:
        certificates.for_api(store, updated.api_hostname)
    return show(store, name)


@enc_refresh.follows
def delete(store: Store, name: str) -> dict[str, Any]:
    names.cluster(name)
    with store.topology_lock():
        store.get(Cluster, name)
        machines = [m.serial for m in members(machine_views(store)) if m.cluster == name]
        if machines:
            raise Conflict(
                f"cluster '{name}' still has {len(machines)} machine(s): {', '.join(machines[:5])}", hint="machine-remove them first"
            )
        networks = [n.name for n in store.all(Network) if n.cluster == name]
        if networks:
            raise Conflict(f"cluster '{name}' still has network(s) {', '.join(networks)}", hint="network-remove them first")
        tx = store.transaction()
        tx.delete(Cluster, name)
        tx.delete(ClusterSecrets, name)
        tx.commit()
    return {"name": name}


def show_machines(store: Store, name: str) -> list[dict[str, Any]]:
    names.cluster(name)
    store.get(Cluster, name)
    views = machine_views(store)
    beats = store.heartbeats()
    rows = []
    for v in views.values():
        if v["cluster"] != name:
            continue
        beat = beats.get(v["serial"])
        rows.append(
            {
                "serial": v["serial"],
                "hostname": v["hostname"],
                "role": v["role"],
                "location": v["location"],
                "status": v["status"],
                "memory_mb": v["memory_mb"],
                "last_seen": beat.last_seen.isoformat(timespec="seconds").replace("+00:00", "Z") if beat else None,
            }
        )
    return sorted(rows, key=lambda r: natural_key(r["hostname"]))


def show_networks(store: Store, name: str) -> list[dict[str, Any]]:
    store.get(Cluster, names.cluster(name))
    return [describe(n) for n in store.all(Network) if n.cluster == name]


def show_ips(store: Store, name: str) -> list[dict[str, Any]]:
    """Every address of the cluster: machines (by hostname) and VIPs."""
    v = view(store, name)
    hostnames = {m.serial: m.hostname for m in v.members}
    rows = []
    for network in v.networks:
        for a in network.allocations:
            if a.kind is AllocationKind.VIP:
                who = f"{a.owner} VIP"
                host = v.cluster.api_hostname if a.owner == vips.VipUsage.API.value else None
            else:
                who = a.owner
                host = hostnames.get(a.owner)
            rows.append({"hostname": host, "owner": who, "kind": a.kind.value, "network": network.name, "address": str(a.address)})
    return rows


def rolecounts_list(store: Store, name: str) -> list[dict[str, Any]]:
    """The cluster's hostname counters: the number the last hostname of each role took (the next takes one more)."""
    cluster = store.get(Cluster, names.cluster(name))
    return [{"role": role, "count": count} for role, count in sorted(cluster.role_counters.items())]


def rolecounts_set(store: Store, name: str, role: str, count: int) -> dict[str, Any]:
    """Set a role's hostname counter: the next machine of that role gets number ``count`` + 1 (a number whose
    hostname is taken is skipped, so a lower count never gives two machines one name)."""
    names.role(role)
    if not role_exists(store, role):
        raise NotFound(f"role {role!r} does not exist", hint="see role-list")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 99999:
        raise InvalidInput(f"count {count!r}: must be a whole number from 0 to 99999")
    with store.topology_lock():
        cluster = store.get(Cluster, names.cluster(name))
        tx = store.transaction()
        tx.put(replace(cluster, role_counters={**cluster.role_counters, role: count}))
        tx.commit()
    return {"cluster": name, "role": role, "count": count}
