"""What the master does after a machine's Puppet run succeeds (docs/puppet-runs.md, "Reactions"): the first
controller's success ends the cluster's initial setup; the success that makes every controller ready has the
hyper-converged computes run Puppet again, as computes now; a new compute is registered with Nova; the ENC of
the other hosts follows. Called by the status intake once, when a machine's Puppet status becomes success."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from oci.enc import refresh as enc
from oci.errors import OciError
from oci.install import plan as install_plan
from oci.model import Cluster, Machine, MachineStatus, Phase, PuppetStatus
from oci.model.machine import MAX_DETAIL_LENGTH
from oci.naming import natural_key
from oci.remote import node_of, run_on
from oci.run import CommandError
from oci.store import Store

LOG = logging.getLogger("oci.reactions")
# As OCI 42 does it: as the nova user, on a controller whose Puppet run succeeded (so its nova.conf is complete).
DISCOVER_HOSTS = ["runuser", "-u", "nova", "--", "nova-manage", "cell_v2", "discover_hosts"]
DISCOVER_TIMEOUT = 300  # seconds: only against a hung controller; discovery takes seconds
# On a hyper-converged compute: the first runs' unit again (its marker written back), which reports
# puppet-running and then its verdict, as at the first boot. --no-block: the run itself takes minutes.
RERUN_PUPPET = ["sh", "-c", f"touch /{install_plan.PUPPET_RUN_MARKER} && systemctl restart --no-block {install_plan.PUPPET_RUN_UNIT}"]
RERUN_TIMEOUT = 120


def after_puppet_success(store: Store, serial: str) -> None:
    """Run outside the machine's lock (it may take other locks and reach other nodes over SSH). Never raises
    for a failed reaction: the failure is logged and the machine's history says so."""
    machine = store.find(Machine, serial)
    if machine is None or machine.enrolment is None or machine.puppet_status is not PuppetStatus.SUCCESS:
        return  # removed, or reinstalled, since its report
    cluster = store.find(Cluster, machine.enrolment.cluster)
    if cluster is None:
        return
    try:
        if machine.enrolment.role == "controller":
            if cluster.first_master == serial and cluster.setting("initial_cluster_setup") is True:
                _end_initial_setup(store, cluster.name, serial)
            if _controllers_ready(store, cluster.name):
                _rerun_hyperconverged(store, cluster.name, serial)
        elif machine.enrolment.role == "compute" and cluster.setting("initial_cluster_setup") is False:
            _discover_hosts(store, cluster.name, serial)
    except OciError as exc:  # a lock held too long, a state file that cannot be written: the report still counts
        _failed(store, serial, f"reaction to its Puppet success failed: {exc.message.splitlines()[0]}")


def _end_initial_setup(store: Store, cluster: str, serial: str) -> None:
    """The first controller bootstrapped the cluster (Galera, Keystone, the schemas): the one-time actions are
    done. The cluster's other hosts get their classification again, now that it may say so."""
    with store.topology_lock():
        found = store.get(Cluster, cluster)
        tx = store.transaction()
        tx.put(replace(found, settings={**found.settings, "initial_cluster_setup": False}))
        tx.commit()
        enc.refresh(store, cluster)
    _note(store, serial, f"cluster {cluster}: initial setup done, the ENC of its hosts refreshed")


def _members(store: Store, cluster: str, role: str) -> list[Machine]:
    return [m for m in store.all(Machine) if m.enrolment is not None and m.enrolment.cluster == cluster and m.enrolment.role == role]


def _controllers_ready(store: Store, cluster: str) -> bool:
    """Every controller installed and its Puppet run successful: what the ENC waits for before it classifies a
    hyper-converged compute as a compute (enc.classify.controllers_ready)."""
    controllers = _members(store, cluster, "controller")
    return bool(controllers) and all(m.status is MachineStatus.INSTALLED and m.puppet_status is PuppetStatus.SUCCESS for m in controllers)


def _rerun_hyperconverged(store: Store, cluster: str, serial: str) -> None:
    """A hyper-converged compute (compute_is_cephosd) was first classified as a Ceph OSD only; now that every
    controller is ready, its classification says compute, and Puppet runs there again at once (as OCI 42 does),
    rather than at its agent's next run, up to half an hour later. Installed ones only: one still installing
    gets the compute classification at its first run."""
    hosts = [
        m
        for m in _members(store, cluster, "compute")
        if m.settings.get("compute_is_cephosd") is True and m.status is MachineStatus.INSTALLED
    ]
    by = store.get(Machine, serial).enrolment
    assert by is not None
    for host in sorted(hosts, key=lambda m: natural_key(m.enrolment.hostname if m.enrolment else m.serial)):
        try:
            run_on(store, node_of(store, host.serial), RERUN_PUPPET, timeout=RERUN_TIMEOUT)
        except CommandError as exc:
            said = exc.output.strip().splitlines()
            why = ("timed out" if exc.returncode is None else f"exit code {exc.returncode}") + (f": {said[-1]}" if said else "")
            _failed(store, host.serial, f"Puppet not started again as a compute ({why})")
            continue
        except OciError as exc:
            _failed(store, host.serial, f"Puppet not started again as a compute: {exc.message.splitlines()[0]}")
            continue
        _note(store, host.serial, f"Puppet runs again, as a compute: every controller is ready ({by.hostname} was the last)")


def _discover_hosts(store: Store, cluster: str, serial: str) -> None:
    """Register the new compute with Nova's cell (nova-manage cell_v2 discover_hosts on a controller)."""
    controllers = sorted(
        (m for m in _members(store, cluster, "controller") if m.puppet_status is PuppetStatus.SUCCESS),
        key=lambda m: natural_key(m.enrolment.hostname if m.enrolment else m.serial),
    )
    if not controllers:
        _failed(store, serial, "not registered with Nova: no controller of the cluster has a successful Puppet run")
        return
    controller = controllers[0]
    assert controller.enrolment is not None
    where = controller.enrolment.hostname
    try:
        run_on(store, node_of(store, controller.serial), DISCOVER_HOSTS, timeout=DISCOVER_TIMEOUT)
    except CommandError as exc:  # it ran and failed: its exit and last words, not the ssh command line
        said = exc.output.strip().splitlines()
        why = ("timed out" if exc.returncode is None else f"exit code {exc.returncode}") + (f": {said[-1]}" if said else "")
        _failed(store, serial, f"nova-manage cell_v2 discover_hosts on {where} failed ({why})")
        return
    except OciError as exc:  # the controller cannot be reached
        _failed(store, serial, f"nova-manage cell_v2 discover_hosts on {where} failed: {exc.message.splitlines()[0]}")
        return
    _note(store, serial, f"registered with Nova: nova-manage cell_v2 discover_hosts on {where}")


def _failed(store: Store, serial: str, detail: str) -> None:
    LOG.warning("%s: %s", serial, detail)
    _note(store, serial, detail)


def _note(store: Store, serial: str, detail: str) -> None:
    """A line of the machine's history, under the Puppet status it reacted to."""
    with store.machine_lock([serial]):
        machine = store.find(Machine, serial)
        if machine is None:
            return
        now = datetime.now(UTC).replace(microsecond=0)
        history = machine.reached(Phase.PUPPET_SUCCESS.value, now, detail=detail[:MAX_DETAIL_LENGTH])
        store.write_machine(replace(machine, history=history))
