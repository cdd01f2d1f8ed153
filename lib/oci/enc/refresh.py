"""Keep ``enc/<cluster>/<fqdn>.yaml`` in line with the state: render every host of a cluster, write only the
files whose content changed, remove those of hosts that left. ``oci-enc`` only reads these files.

The files are one view derived from the state, and nothing refreshes them by hand: ``following`` records
every object a change writes (the store's ``recording``) and, once the change succeeded, re-renders the
clusters whose classifications those objects may change (``clusters_touched``). ``operations.execute`` runs
every operator operation in it and report intake every report, so a new operation needs no ENC code.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from ipaddress import IPv4Address
from typing import Any, Concatenate, ParamSpec, TypeVar

from oci import ipam, names, placement, vips
from oci.enc import secrets as secret_table
from oci.enc.classify import IFACE_ROLES, ClusterFacts, Host, classify, context
from oci.errors import Conflict, InvalidInput, NotFound
from oci.install.layout import GIB, data_disks
from oci.masking import masked
from oci.model import AllocationKind, Cluster, ClusterSecrets, Machine, Network
from oci.netconf.build import build as build_network
from oci.packagecache import package_cache
from oci.pki import ssh
from oci.placement import ClusterView
from oci.service import profiles
from oci.service.views import machine_views, members
from oci.store import Store
from oci.store.files import dump_yaml, load_yaml

P = ParamSpec("P")
R = TypeVar("R")
FOLDER = "enc"
INPUTS = "configuration.yaml"  # beside the clusters' folders (cluster-*), which alone hold host files


def folder(cluster: str) -> str:
    return f"cluster-{cluster}"


def facts(store: Store, cluster_name: str) -> ClusterFacts:
    """What the classifications of a cluster's hosts are made of. Only reads: the secrets are those stored
    (made at cluster-create, completed by ``complete_secrets`` before each refresh)."""
    cluster = store.get(Cluster, cluster_name)
    networks = store.all(Network)
    view = ClusterView.build(cluster, networks, members(machine_views(store)))
    stored = store.find(ClusterSecrets, cluster_name)
    values = dict(stored.values) if stored else {}
    hosts = []
    for member in view.members:
        machine = store.get(Machine, member.serial)
        addresses = {n.name: str(a) for n in view.networks for a in ipam.addresses_of(n, AllocationKind.MACHINE, member.serial)}
        mgmt = next((n for n in placement.management_networks(view, member.role, member.location) if n.name in addresses), None)
        hosts.append(
            Host(
                serial=member.serial,
                hostname=member.hostname,
                role=member.role,
                location=member.location,
                status=machine.status.value,
                puppet_status=machine.puppet_status.value,
                addresses=addresses,
                management_ip=addresses[mgmt.name] if mgmt else None,
                management_network=mgmt,
                settings=_settings(store, machine),
                tls=_tls(store, member.hostname),
                disks=tuple(d.name for d in machine.hardware.disks),
                management_iface=_management_iface(view, member, machine, addresses[mgmt.name] if mgmt else None),
                data_disks=_data_disks(store, member, machine),
            )
        )
    reserved = {usage.value: (network, str(address)) for usage, (network, address) in vips.current(view).items()}
    user_ca = store.read_blob("ssh", ssh.ca_folder(cluster_name), "user_ca.pub")
    master = store.config.master_address
    return ClusterFacts(cluster=cluster, hosts=tuple(hosts), vips=reserved, secrets=values,
                        ssh_user_ca=user_ca.decode().strip() if user_ca else None,
                        master_ip=str(master) if master else None, package_cache=_package_cache(store),
                        api_tls=_tls(store, cluster.api_hostname))  # fmt: skip


def _management_iface(view: ClusterView, member: placement.Member, machine: Machine, address: str | None) -> str | None:
    """The device oci-netconf puts the machine's management address on (the same plan the install writes); planned
    only for the roles whose class takes it, since every refresh of the cluster asks."""
    if address is None or member.role not in IFACE_ROLES:
        return None
    with contextlib.suppress(InvalidInput):  # its install refuses it, saying why; its classes get no interface
        device = build_network(view, member, machine.hardware.nics).holding(IPv4Address(address))
        return device.name if device else None
    return None


def _settings(store: Store, machine: Machine) -> dict[str, Any]:
    """The machine's settings with its hardware profile's under them (oci.service.profiles); its own alone when
    the profiles file is wrong (machine-show and every profile command say why)."""
    with contextlib.suppress(InvalidInput):
        return {k: v for k, v in profiles.settings(store, machine).items() if v is not None}
    return dict(machine.settings)


def _data_disks(store: Store, member: placement.Member, machine: Machine) -> tuple[str, ...]:
    """A Swift store's devices, the disks its rings have (oci.service.swiftring); none for other roles."""
    if member.role != "swiftstore":
        return ()
    with contextlib.suppress(InvalidInput):  # its rings and its install refuse it, saying why
        return data_disks(machine.hardware, profiles.settings(store, machine), store.config.install_minimum_disk_gib * GIB)
    return ()


def _package_cache(store: Store) -> str | None:
    """None also while the master's address is unknown: installs are refused then (they need it), and the ENC
    names the mirror itself."""
    with contextlib.suppress(Conflict):
        return package_cache(store.config)
    return None


def _tls(store: Store, hostname: str) -> dict[str, str] | None:
    chain = store.read_blob("pki", "ca-chain.pem")
    cert = store.read_blob("pki", "certs", hostname, "chain.pem")
    key = store.read_blob("pki", "certs", hostname, "key.pem")
    if chain is None or cert is None or key is None:
        return None  # issued right after the enrolment: the next rendering carries it
    return {"ca_chain": chain.decode(), "certificate": cert.decode(), "key": key.decode()}


def render(store: Store, cluster_name: str) -> dict[str, str]:
    """fqdn -> ENC document (YAML) of every host of the cluster."""
    f = facts(store, cluster_name)
    shared = context(f)
    return {host.hostname: "---\n" + dump_yaml(classify(f, host, shared)) for host in f.hosts}


def complete_secrets(store: Store, cluster_name: str) -> None:
    """Store the secrets a newer release added to the table (secrets.GENERATORS) for a cluster made before
    it; existing ones never change. A write by design, the first step of every refresh: made once and
    kept, or each rendering would carry new random values."""
    with store.topology_lock():
        stored = store.find(ClusterSecrets, cluster_name)
        values = secret_table.complete(stored.values if stored else {})
        if stored is None or values != stored.values:
            tx = store.transaction()
            tx.put(ClusterSecrets(cluster_name, values))
            tx.commit()


def refresh(store: Store, cluster_name: str) -> dict[str, Any]:
    """Rewrite the cluster's ENC files that changed; remove those of hosts no longer in it."""
    complete_secrets(store, cluster_name)
    documents = render(store, cluster_name)
    written, removed = [], []
    where = folder(cluster_name)
    for hostname, text in sorted(documents.items()):
        data = text.encode()
        if store.read_blob(FOLDER, where, f"{hostname}.yaml") != data:
            store.write_blob(FOLDER, where, f"{hostname}.yaml", data=data, mode=0o600)  # it holds the host's secrets
            written.append(hostname)
    for name in store.list_blobs(FOLDER, where):
        if name.endswith(".yaml") and name[:-5] not in documents:
            store.remove_blob(FOLDER, where, name)
            removed.append(name[:-5])
    return {"cluster": cluster_name, "written": written, "removed": removed, "unchanged": len(documents) - len(written)}


def configuration_inputs(store: Store) -> bytes:
    """The configuration values the ENC files carry ([network] oci_ip, the Puppet master in every host's
    /etc/hosts; the package cache in their Debian mirror), as the files record them."""
    master = store.config.master_address
    return dump_yaml({"master_ip": str(master) if master else None, "package_cache": _package_cache(store)}).encode()


def follow_configuration(store: Store) -> list[dict[str, Any]]:
    """Re-render every cluster's ENC files when a configuration value they carry changed since they were
    written (an operator edited the configuration file, or dpkg-reconfigure did): a configuration change
    goes through no operation, so nothing else would. Cheap when nothing changed: one small read."""
    wanted = configuration_inputs(store)
    if store.read_blob(FOLDER, INPUTS) == wanted:
        return []
    with store.topology_lock():
        done = [refresh(store, cluster.name) for cluster in store.all(Cluster)]
        store.write_blob(FOLDER, INPUTS, data=wanted)
    return done


def clusters_touched(before: Any, after: Any) -> set[str]:
    """The clusters whose classifications may change when a stored object goes from ``before`` to
    ``after`` (None: absent). Locations, regions, roles, BMC access and tokens are in no classification."""
    either = after if after is not None else before
    if isinstance(either, Cluster):
        return {either.name}
    if isinstance(either, ClusterSecrets):
        return {either.cluster}
    if isinstance(either, Network):
        return {n.cluster for n in (before, after) if n is not None and n.cluster is not None}
    if isinstance(either, Machine):
        enrolled = {m.enrolment.cluster for m in (before, after) if m is not None and m.enrolment is not None}
        if before is None or after is None or _classified(before) != _classified(after):
            return enrolled
    return set()


def _classified(machine: Machine) -> tuple[Any, ...]:
    """What a classification reads of a machine. Only a controller's install and Puppet results count (the
    hyper-converged bootstrap, docs/enc.md): other status reports, the bulk of them, re-render nothing."""
    controller = machine.enrolment is not None and machine.enrolment.role == "controller"
    return (
        machine.enrolment,
        machine.settings,
        tuple(d.name for d in machine.hardware.disks),
        (machine.status, machine.puppet_status) if controller else None,
    )


@contextlib.contextmanager
def following(store: Store) -> Iterator[None]:
    """Run a change, then re-render once the ENC files of every cluster it touched (removing those of a
    cluster it deleted), under the topology lock. Nothing is re-rendered when the change raised. A nested
    block leaves the refresh to the outermost one, so an operation made of several changes renders once."""
    if store.recording_changes():
        yield
        return
    with store.recording() as changes:
        yield
    touched: set[str] = set()
    for before, after in changes:
        touched |= clusters_touched(before, after)
    if touched:
        with store.topology_lock():  # after the change's own locks: the topology lock comes first
            for name in sorted(touched):
                if store.find(Cluster, name) is None:
                    forget(store, name)
                else:
                    refresh(store, name)


def follows(change: Callable[Concatenate[Store, P], R]) -> Callable[Concatenate[Store, P], R]:
    """``change`` (a service function whose first argument is the store) runs in ``following``: a direct
    library call (tests, benches, ``make poc``) leaves the ENC right as ``operations.execute`` does, and
    inside ``execute`` it adds no refresh of its own."""

    @functools.wraps(change)
    def wrapper(store: Store, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with following(store):
            return change(store, *args, **kwargs)

    return wrapper


def forget(store: Store, cluster_name: str) -> None:
    """Remove every ENC file of a deleted cluster."""
    where = folder(cluster_name)
    for name in store.list_blobs(FOLDER, where):
        store.remove_blob(FOLDER, where, name)


def lookup(store: Store, certname: str) -> bytes | None:
    """A host's ENC document, whichever cluster it is in."""
    for where in store.list_blobs(FOLDER):
        if not where.startswith("cluster-"):
            continue
        data = store.read_blob(FOLDER, where, f"{certname}.yaml")
        if data is not None:
            return data
    return None


def show(store: Store, certname: str) -> dict[str, Any]:
    """A host's classification, as Puppet receives it."""
    names.fqdn(certname, "host name")
    data = lookup(store, certname)
    if data is None:
        raise NotFound(f"no classification for {certname}", hint="only machines enrolled in a cluster have one; see machine-list")
    return masked(load_yaml(data))  # listings never show secrets; certificates: see oci-pki show
