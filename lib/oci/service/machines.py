"""Machines: list, show, enrol in a cluster, remove, destroy, settings and addresses."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from ipaddress import IPv4Address
from typing import Any

from oci import ipam, names, placement
from oci.enc import refresh as enc
from oci.errors import Conflict, InvalidInput, NotFound, OciError
from oci.model import AllocationKind, BmcAccess, Cluster, Enrolment, Location, Machine, MachineStatus, Network, Phase, PuppetStatus
from oci.model.codec import encode
from oci.model.machine import InstallRecord
from oci.model.settings import MACHINE_SETTINGS, Value, effective
from oci.naming import natural_key, next_hostname
from oci.placement import ClusterView, Member
from oci.puppet import ca as puppet_ca
from oci.service import certificates, identity, profiles
from oci.service.automationlog import forget as forget_automation
from oci.service.automationlog import history as automation_history
from oci.service.networks import parse_address
from oci.service.plan import plan_addresses
from oci.service.topology import role_exists
from oci.service.views import addresses_by_owner, machine_views, members
from oci.store import Store

_SERIAL_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
INSTALLED_STATES = (MachineStatus.INSTALLING, MachineStatus.FIRSTBOOT, MachineStatus.INSTALLED)


def _iso(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z") if when else None


def resolve(store: Store, ident: str, views: dict[str, dict[str, Any]] | None = None) -> str:
    """A serial, from a serial or a hostname (full or short)."""
    if isinstance(ident, str) and _SERIAL_SHAPE.fullmatch(ident) and store.find(Machine, ident) is not None:
        return ident
    if not isinstance(ident, str) or not ident or len(ident) > 253:
        names.serial(ident)  # raises the usual one-line error
    views = machine_views(store) if views is None else views
    matches = [v["serial"] for v in views.values() if v["hostname"] and ident in (v["hostname"], v["hostname"].split(".", 1)[0])]
    if len(matches) == 1:
        return str(matches[0])
    if len(matches) > 1:
        raise Conflict(f"hostname '{ident}' matches machines {', '.join(matches)}", hint="use the serial")
    names.serial(ident)
    raise NotFound(f"no machine with serial or hostname '{ident}'", hint="see machine-list")


def _management(
    views: dict[str, dict[str, Any]],
    networks: list[Network],
    clusters: dict[str, Cluster],
    by_owner: dict[str, list[tuple[str, IPv4Address]]],
) -> dict[str, IPv4Address]:
    """serial -> address on its management network."""
    everyone = members(views)
    cluster_views = {name: ClusterView.build(c, networks, everyone) for name, c in clusters.items()}
    memo: dict[tuple[str, str, str], set[str]] = {}
    out = {}
    for m in everyone:
        cv = cluster_views.get(m.cluster)
        if cv is None:
            continue
        key = (m.cluster, m.role, m.location)
        if key not in memo:
            memo[key] = {n.name for n in placement.management_networks(cv, m.role, m.location)}
        found = [address for network, address in by_owner.get(m.serial, ()) if network in memo[key]]
        if found:
            out[m.serial] = found[0]
    return out


def list_(store: Store) -> list[dict[str, Any]]:
    views = machine_views(store)
    beats = store.heartbeats()
    networks = store.all(Network)
    clusters = {c.name: c for c in store.all(Cluster)}
    by_owner = addresses_by_owner(networks, AllocationKind.MACHINE)
    management = _management(views, networks, clusters, by_owner)
    rows = []
    for serial, v in views.items():
        beat = beats.get(serial)
        live_ip = str(beat.address) if beat and beat.address else None
        mgmt = management.get(serial)
        current = str(mgmt) if mgmt and MachineStatus(v["status"]) in INSTALLED_STATES else live_ip
        rows.append(
            {
                **v,
                "ip": current,
                "live_ip": live_ip,
                "management_ip": str(mgmt) if mgmt else None,
                "addresses": [{"network": net, "address": str(addr)} for net, addr in by_owner.get(serial, [])],
                "last_seen": _iso(beat.last_seen) if beat else None,
                "reports": beat.reports if beat else 0,
            }
        )
    return rows


def show(store: Store, ident: str) -> dict[str, Any]:
    serial = resolve(store, ident)
    machine = store.get(Machine, serial)
    beat = store.heartbeat(serial)
    by_owner = addresses_by_owner(store.all(Network), AllocationKind.MACHINE)
    data = encode(machine)
    data.pop("settings", None)
    data["enrolment"] = encode(machine.enrolment) if machine.enrolment else None
    # Its settings as the installer takes them: the defaults, the profile that applies to it, its own. A broken
    # profiles file does not hide the machine: it is said instead of the profile.
    try:
        data["settings"], data["profile"] = profiles.settings(store, machine), profiles.applying_name(store, machine)
    except InvalidInput as exc:
        data["settings"], data["profile"] = effective(MACHINE_SETTINGS, machine.settings), f"unknown: {exc.message}"
    data["automation"] = automation_history(store, serial)
    data["addresses"] = [{"network": net, "address": str(addr)} for net, addr in by_owner.get(serial, [])]
    data["last_seen"] = _iso(beat.last_seen) if beat else None
    data["reports"] = beat.reports if beat else 0
    data["live_ip"] = str(beat.address) if beat and beat.address else None
    data["history"] = phase_durations(machine)
    data["install"] = install_view(machine.install, datetime.now(UTC))
    access = store.find(BmcAccess, serial)
    data["bmc"] = {"use": access.use, "address": access.address, "port": access.port, "user": access.user} if access else None
    if access is not None and access.network is not None:  # numbered by OCI from an ipmi network
        data["bmc"].update(network=access.network, pending=access.pending)
    data["conflicts"] = identity.conflicts(store, serial)
    return data


def phase_durations(machine: Machine) -> list[dict[str, Any]]:
    """The history with how long each phase lasted (``seconds`` is null for the phase it is still in)."""
    out = []
    for change, following in zip(machine.history, (*machine.history[1:], None), strict=True):
        out.append(
            {
                "status": change.status,
                "since": _iso(change.at),
                "address": str(change.address) if change.address else None,
                "seconds": int((following.at - change.at).total_seconds()) if following else None,
                "detail": change.detail,
            }
        )
    return out


def install_view(record: InstallRecord | None, now: datetime) -> dict[str, Any] | None:
    """The latest install as ``machine-show`` and ``machine-wait-for-install`` read it. ``state``: running,
    failed or done (the installer's work; ``installed`` is the machine's status after its first boot);
    ``seconds``: the whole install, so far while it runs; ``step``: the step it is in while it runs."""
    if record is None:
        return None
    state = "failed" if record.failed else "running" if record.finished is None else "done"
    steps = []
    for index, step in enumerate(record.steps):
        last = index == len(record.steps) - 1
        if step.seconds is not None:
            step_state = "done"
        elif state == "failed" and step.name == record.failed_step and last:
            step_state = "failed"
        else:  # a running step, or one whose end was never heard
            step_state = "running" if state == "running" and last else "unfinished"
        steps.append({"name": step.name, "started": _iso(step.started), "seconds": step.seconds, "state": step_state})
    current = steps[-1]["name"] if steps and steps[-1]["state"] == "running" else None
    return {
        "state": state,
        "started": _iso(record.started),
        "finished": _iso(record.finished),
        "seconds": max(0, int(((record.finished or now) - record.started).total_seconds())),
        "step": current,
        "failed_step": record.failed_step,
        "error": record.error,
        "steps": steps,
    }


def install_progress(store: Store, ident: str) -> dict[str, Any]:
    """What ``machine-wait-for-install`` polls: a machine's status and its latest install (one file read)."""
    serial = resolve(store, ident)
    machine = store.get(Machine, serial)
    return {
        "serial": serial,
        "hostname": machine.enrolment.hostname if machine.enrolment else None,
        "status": machine.status.value,
        "install": install_view(machine.install, datetime.now(UTC)),
    }


def puppet_progress(store: Store, ident: str) -> dict[str, Any]:
    """What ``machine-wait-for-puppet`` polls: a machine's status, puppet status, last Puppet run, and the
    error of its latest Puppet failure (the node's first-run line, or the run's report) (one file read)."""
    serial = resolve(store, ident)
    machine = store.get(Machine, serial)
    failures = [h.detail for h in machine.history if h.status == Phase.PUPPET_FAILURE.value]
    error = failures[-1] if failures and failures[-1] else None
    if error is None and machine.puppet_run is not None and machine.puppet_run.error is not None:
        error = machine.puppet_run.error
    return {
        "serial": serial,
        "hostname": machine.enrolment.hostname if machine.enrolment else None,
        "status": machine.status.value,
        "puppet_status": machine.puppet_status.value,
        "puppet_run": encode(machine.puppet_run) if machine.puppet_run else None,
        "error": error if machine.puppet_status is PuppetStatus.FAILURE else None,
    }


MAX_ENROLMENTS = 1000  # machines enrolled in one call (a few racks): the topology lock is held meanwhile


@dataclass(frozen=True)
class Enrolling:
    """One machine to enrol: what machine-add takes."""

    serial: str
    cluster: str
    role: str
    location: str
    fixed_ip: IPv4Address | None = None


@enc.follows
def add(store: Store, serial: str, cluster_name: str, role: str, location: str, fixed_ip: str | None = None) -> dict[str, Any]:
    """Enrol a live, free machine: hostname, addresses on its networks, VIPs the cluster now needs."""
    return enrol(store, [_enrolling(serial, cluster_name, role, location, fixed_ip)])[0]


@enc.follows
def add_many(store: Store, entries: object) -> list[dict[str, Any]]:
    """machine-add of several machines at once (a rack): all of them or none, under one lock, one transaction,
    one refresh of each cluster's ENC. A refusal names the entry (``entry 3 (SERIAL): ...``)."""
    if not isinstance(entries, list) or not entries:
        raise InvalidInput("machines: expected a list of {serial, cluster, role, location, fixed_ip?}")
    if len(entries) > MAX_ENROLMENTS:
        raise InvalidInput(f"machines: {len(entries)} entries, at most {MAX_ENROLMENTS} in one call")
    parsed = []
    for i, entry in enumerate(entries):
        where = f"entry {i + 1}"
        if not isinstance(entry, dict) or set(entry) - {"serial", "cluster", "role", "location", "fixed_ip"}:
            raise InvalidInput(f"{where}: expected {{serial, cluster, role, location, fixed_ip?}}")
        missing = sorted({"serial", "cluster", "role", "location"} - set(entry))
        if missing:
            raise InvalidInput(f"{where}: {missing[0]} is missing")
        with _naming(f"{where} ({str(entry['serial'])[:64]})"):
            parsed.append(_enrolling(entry["serial"], entry["cluster"], entry["role"], entry["location"], entry.get("fixed_ip")))
    seen: set[str] = set()
    for i, item in enumerate(parsed):
        if item.serial in seen:
            raise InvalidInput(f"entry {i + 1} ({item.serial}): the machine is listed twice")
        seen.add(item.serial)
    return enrol(store, parsed, numbered=True)


def _enrolling(serial: object, cluster: object, role: object, location: object, fixed_ip: object) -> Enrolling:
    if fixed_ip is not None and not isinstance(fixed_ip, str):
        raise InvalidInput(f"invalid fixed IP {ascii(fixed_ip)[:40]}: expected an IPv4 address")
    fixed = parse_address(fixed_ip, "fixed IP") if fixed_ip is not None else None
    return Enrolling(names.serial(serial), names.cluster(cluster), names.role(role), names.location(location), fixed)


@contextlib.contextmanager
def _naming(where: str | None) -> Iterator[None]:
    """A refusal of one of several entries says which (the same error, its message prefixed)."""
    try:
        yield
    except OciError as exc:
        if where is None:
            raise
        raise type(exc)(f"{where}: {exc.message}", hint=exc.hint) from None


def enrol(store: Store, entries: list[Enrolling], numbered: bool = False) -> list[dict[str, Any]]:
    """Enrol live, free machines: a hostname each, addresses on their networks, the VIPs their clusters now
    need. Everything is checked and planned before anything is written."""
    with store.topology_lock(), store.machine_lock([e.serial for e in entries]):
        everyone = members(machine_views(store))
        taken = {m.hostname for m in everyone}
        clusters: dict[str, Cluster] = {}
        enrolled: list[tuple[Enrolling, Machine, Member]] = []
        for i, item in enumerate(entries):
            with _naming(f"entry {i + 1} ({item.serial})" if numbered else None):
                cluster = clusters.get(item.cluster) or store.get(Cluster, item.cluster)
                if not role_exists(store, item.role):
                    raise NotFound(f"no role named '{item.role}'", hint="see role-list")
                store.get(Location, item.location)
                machine = store.get(Machine, item.serial)
                if machine.enrolment is not None:
                    raise Conflict(
                        f"machine {item.serial} is already enrolled as {machine.enrolment.hostname}", hint="machine-remove it first"
                    )
                if machine.status is not MachineStatus.LIVE:
                    raise Conflict(f"machine {item.serial} is {machine.status.value}, not live", hint="boot it on the live image first")
                hostname, cluster = next_hostname(cluster, item.role, taken)
                taken.add(hostname)
                if item.role == "controller" and cluster.first_master not in _controllers(cluster.name, everyone, enrolled):
                    cluster = replace(cluster, first_master=item.serial)
                clusters[item.cluster] = cluster
                enrolled.append((item, machine, Member(item.serial, item.cluster, item.role, item.location, hostname)))
        networks = {n.name: n for n in store.all(Network)}
        changed: dict[str, Network] = {}
        views: dict[str, ClusterView] = {}
        newcomers = [member for _, _, member in enrolled]
        for name, cluster in clusters.items():
            view = ClusterView.build(cluster, list(networks.values()), [*everyone, *newcomers])
            for i, (item, _, member) in enumerate(enrolled):
                if item.cluster == name and item.fixed_ip is not None:
                    with _naming(f"entry {i + 1} ({item.serial})" if numbered else None):
                        view = _with_fixed_address(view, member, item.fixed_ip)
                        fixed_on = _management_network(view, member)
                    changed[fixed_on.name] = fixed_on
            view, planned = plan_addresses(view)
            for network in view.networks:  # what the fixed addresses and the plan changed
                if network.name in planned or network.name in changed:
                    changed[network.name] = network
                networks[network.name] = network
            views[name] = view
        tx = store.transaction()
        for cluster in clusters.values():
            tx.put(cluster)
        for network in changed.values():
            tx.put(network)
        for item, machine, member in enrolled:
            tx.put(replace(machine, enrolment=Enrolment(item.cluster, item.role, item.location, member.hostname)))
        tx.commit()
    results = []
    for item, _, member in enrolled:
        certificates.for_machine(store, item.serial, member.hostname)  # before the ENC refresh: the classification carries it
        view = views[item.cluster]
        addresses = [
            {"network": n.name, "address": str(a)} for n in view.networks for a in ipam.addresses_of(n, AllocationKind.MACHINE, item.serial)
        ]
        results.append({"serial": item.serial, "hostname": member.hostname, "cluster": item.cluster, "role": item.role,
                        "location": item.location, "addresses": addresses})  # fmt: skip
    return results


def _free_and_live(machine: Machine) -> Machine:
    if machine.enrolment is not None:
        raise Conflict(f"machine {machine.serial} is already enrolled as {machine.enrolment.hostname}", hint="machine-remove it first")
    if machine.status is not MachineStatus.LIVE:
        raise Conflict(f"machine {machine.serial} is {machine.status.value}, not live", hint="boot it on the live image first")
    return machine


def _addresses(view: ClusterView, serial: str) -> list[dict[str, str]]:
    return [{"network": n.name, "address": str(a)} for n in view.networks for a in ipam.addresses_of(n, AllocationKind.MACHINE, serial)]


def _controllers(cluster: str, everyone: list[Member], enrolled: list[tuple[Enrolling, Machine, Member]]) -> set[str]:
    """The serials of the cluster's controllers, those being enrolled with them."""
    return {m.serial for m in [*everyone, *(member for _, _, member in enrolled)] if m.cluster == cluster and m.role == "controller"}


def _management_network(view: ClusterView, member: Member) -> Network:
    mgmt = placement.management_networks(view, member.role, member.location)
    if len(mgmt) != 1:
        found = ", ".join(n.name for n in mgmt) or "none"
        raise Conflict(
            f"--fixed-ip needs exactly one management network for {member.role} in {member.location} (found: {found})",
        )
    return mgmt[0]


def _with_fixed_address(view: ClusterView, member: Member, address: IPv4Address) -> ClusterView:
    """Only the management network takes the fixed address (the reference tried it on every network)."""
    network = _management_network(view, member)
    for other in view.networks:
        if other.name != network.name and address in other.subnet:
            raise InvalidInput(f"{address} belongs to network {other.name}, not to the management network {network.name}")
    updated, _ = ipam.allocate(network, AllocationKind.MACHINE, member.serial, address)
    return replace(view, networks=tuple(updated if n.name == network.name else n for n in view.networks))


@enc.follows
def remove(store: Store, ident: str) -> dict[str, Any]:
    """Take a machine out of its cluster: enrolment and machine addresses go, its Puppet agent certificate is
    revoked (the Puppet server refuses it from then on); the hostname counter stays."""
    with store.topology_lock():
        serial = resolve(store, ident)
        with store.machine_lock([serial]):
            machine = store.get(Machine, serial)
            if machine.enrolment is None:
                raise Conflict(f"machine {serial} is not in a cluster")
            cluster = store.get(Cluster, machine.enrolment.cluster)
            tx = store.transaction()
            for network in store.all(Network):
                released = ipam.release(network, AllocationKind.MACHINE, serial)
                if released is not network:
                    tx.put(released)
            if cluster.first_master == serial:
                remaining = [
                    m for m in members(machine_views(store)) if m.cluster == cluster.name and m.role == "controller" and m.serial != serial
                ]
                remaining.sort(key=lambda m: natural_key(m.hostname))
                tx.put(replace(cluster, first_master=remaining[0].serial if remaining else None))
            tx.put(replace(machine, enrolment=None))
            # Revoked first: should the commit fail, the machine stays with a certificate to reissue, never the
            # reverse (a machine gone whose certificate the Puppet server still accepts).
            puppet_ca.revoke(store, machine.enrolment.hostname)
            tx.commit()
    return {"serial": serial, "hostname": machine.enrolment.hostname}


@enc.follows
def replace_machine(store: Store, old_ident: str, new_serial: str) -> dict[str, Any]:
    """A new chassis takes an enrolled machine's place (OCI 42's ``machine-replace``): its hostname, cluster, role
    and location, its settings (the new machine's own come first), its addresses, its place as first master; the
    old machine's record goes, as ``machine-destroy`` does. The new machine is then installed as any other."""
    names.serial(new_serial)
    with store.topology_lock():
        old_serial = resolve(store, old_ident)
        if old_serial == new_serial:
            raise InvalidInput(f"machine {new_serial} cannot replace itself")
        with store.machine_lock([old_serial, new_serial]):
            old, new = store.get(Machine, old_serial), store.get(Machine, new_serial)
            if old.enrolment is None:
                raise Conflict(
                    f"machine {old_serial} is in no cluster: there is no place to take", hint=f"machine-add {new_serial} instead"
                )
            if new.enrolment is not None:
                raise Conflict(f"machine {new_serial} is already enrolled as {new.enrolment.hostname}", hint="machine-remove it first")
            if new.status is not MachineStatus.LIVE:
                raise Conflict(f"machine {new_serial} is {new.status.value}, not live", hint="boot it on the live image first")
            tx = store.transaction()
            for network in store.all(Network):
                moved = tuple(replace(a, owner=new_serial) if a.owner == old_serial and a.kind is AllocationKind.MACHINE else a
                              for a in network.allocations if not (a.owner == old_serial and a.kind is AllocationKind.IPMI))  # fmt: skip
                if moved != network.allocations:
                    tx.put(replace(network, allocations=moved))
            cluster = store.get(Cluster, old.enrolment.cluster)
            if cluster.first_master == old_serial:
                tx.put(replace(cluster, first_master=new_serial))
            tx.put(replace(new, enrolment=old.enrolment, settings={**old.settings, **new.settings}))
            if store.find(BmcAccess, old_serial) is not None:  # the old BMC's password goes with it
                tx.delete(BmcAccess, old_serial)
            tx.delete(Machine, old_serial)
            tx.commit()
            forget_automation(store, old_serial)
    return {"old": old_serial, "new": new_serial, "hostname": old.enrolment.hostname, "cluster": old.enrolment.cluster,
            "role": old.enrolment.role, "addresses": ip_list(store, new_serial)}  # fmt: skip


def destroy(store: Store, ident: str) -> dict[str, Any]:
    """Forget a machine entirely (it comes back as new if it reports again)."""
    with store.topology_lock():
        serial = resolve(store, ident)
        with store.machine_lock([serial]):
            machine = store.get(Machine, serial)
            if machine.enrolment is not None:
                raise Conflict(
                    f"machine {serial} is enrolled in cluster {machine.enrolment.cluster} as {machine.enrolment.hostname}",
                    hint=f"machine-remove {serial} first",
                )
            tx = store.transaction()
            for network in store.all(Network):
                released = ipam.release(ipam.release(network, AllocationKind.MACHINE, serial), AllocationKind.IPMI, serial)
                if released is not network:
                    tx.put(released)
            if store.find(BmcAccess, serial) is not None:  # its BMC password goes with it
                tx.delete(BmcAccess, serial)
            tx.delete(Machine, serial)
            tx.commit()
            forget_automation(store, serial)  # if it reports again, it is a new machine to the automation too
    return {"serial": serial}


@enc.follows
def set_(store: Store, ident: str, values: dict[str, Value], unset: list[str], hostname: str | None = None) -> dict[str, Any]:
    for key in unset:
        if key not in MACHINE_SETTINGS:
            raise InvalidInput(f"unknown machine setting '{key}'")
    if not values and not unset and hostname is None:
        raise InvalidInput("nothing to change", hint="give at least one option, see machine-set --help")
    with store.topology_lock():
        serial = resolve(store, ident)
        with store.machine_lock([serial]):
            machine = store.get(Machine, serial)
            settings = {k: v for k, v in {**machine.settings, **values}.items() if k not in unset}
            updated = replace(machine, settings=settings)
            if hostname is not None:
                names.hostname(hostname)
                if machine.enrolment is None:
                    raise Conflict(f"machine {serial} is not in a cluster: it has no hostname to change")
                if machine.status in INSTALLED_STATES:
                    raise Conflict(f"machine {serial} is {machine.status.value}: its hostname can only change before install")
                others = [m for m in members(machine_views(store)) if m.hostname == hostname and m.serial != serial]
                if others:
                    raise Conflict(f"hostname {hostname} is already used by machine {others[0].serial}")
                updated = replace(updated, enrolment=replace(machine.enrolment, hostname=hostname))
            tx = store.transaction()
            tx.put(updated)
            tx.commit()
    if hostname is not None and machine.enrolment is not None and hostname != machine.enrolment.hostname:
        certificates.for_machine(store, serial, hostname)
        certificates.retire(store, machine.enrolment.hostname)
    return show(store, serial)


def ip_list(store: Store, ident: str) -> list[dict[str, Any]]:
    serial = resolve(store, ident)
    rows = []
    for network in store.all(Network):
        for a in network.allocations:
            if a.owner == serial and a.kind is not AllocationKind.VIP:
                rows.append({"network": network.name, "address": str(a.address), "kind": a.kind.value})
    return rows


@enc.follows
def ip_add(store: Store, ident: str, network_name: str, address: str) -> dict[str, Any]:
    names.network(network_name)
    wanted = parse_address(address)
    with store.topology_lock():
        serial = resolve(store, ident)
        machine = store.get(Machine, serial)
        network = store.get(Network, network_name)
        if machine.enrolment is None or network.cluster != machine.enrolment.cluster:
            raise Conflict(f"network {network_name} is not attached to the cluster of machine {serial}")
        for other in store.all(Network):
            if any(a.address == wanted for a in other.allocations):
                raise Conflict(f"{wanted} is already in use on network {other.name}")
        updated, _ = ipam.allocate(network, AllocationKind.MACHINE, serial, wanted)
        tx = store.transaction()
        tx.put(updated)
        tx.commit()
    return {"serial": serial, "network": network_name, "address": str(wanted)}


@enc.follows
def ip_remove(store: Store, ident: str, address: str) -> dict[str, Any]:
    wanted = parse_address(address)
    with store.topology_lock():
        serial = resolve(store, ident)
        for network in store.all(Network):
            for a in network.allocations:
                if a.address == wanted:
                    if a.kind is AllocationKind.VIP or a.owner != serial:
                        raise Conflict(f"{wanted} belongs to {a.kind.value} {a.owner}, not to machine {serial}")
                    tx = store.transaction()
                    tx.put(replace(network, allocations=tuple(x for x in network.allocations if x.address != wanted)))
                    tx.commit()
                    return {"serial": serial, "address": str(wanted)}
        raise NotFound(f"machine {serial} has no address {wanted}")


def disks(store: Store, ident: str) -> list[dict[str, Any]]:
    """The machine's reported block devices (OCI 42's ``machine-blk``: name, realdev, size_mb), with what the
    report said of each."""
    machine = store.get(Machine, resolve(store, ident))
    return [{"name": d.name, "realdev": d.realdev or d.name, "size_mb": d.size_bytes // (1 << 20), "model": d.model,
             "transport": d.transport, "rotational": d.rotational} for d in machine.hardware.disks]  # fmt: skip


def show_from_hostname(store: Store, hostname: str) -> dict[str, Any]:
    """The machine of ``hostname`` as one row of ``machine-list`` (OCI 42's ``machine-show-from-hostname``)."""
    names.fqdn(hostname, "host name")
    found = [m for m in members(machine_views(store)) if m.hostname == hostname]
    if not found:
        raise NotFound(f"no machine has the hostname {hostname}", hint="see machine-list -o hostname")
    return next(row for row in list_(store) if row["serial"] == found[0].serial)
