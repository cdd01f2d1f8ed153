"""What the master does after a machine's Puppet run succeeds (docs/puppet-runs.md, "Reactions"): the first
controller's success ends the cluster's initial setup, a new compute is registered with Nova, and the ENC of
the other hosts follows. Called by the status intake once, when a machine's Puppet status becomes success."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from oci.enc import refresh as enc
from oci.errors import OciError
from oci.model import Cluster, Machine, Phase, PuppetStatus
from oci.model.machine import MAX_DETAIL_LENGTH
from oci.naming import natural_key
from oci.remote import node_of, run_on
from oci.run import CommandError
from oci.store import Store

LOG = logging.getLogger("oci.reactions")
# As OCI 42 does it: as the nova user, on a controller whose Puppet run succeeded (so its nova.conf is complete).
DISCOVER_HOSTS = ["runuser", "-u", "nova", "--", "nova-manage", "cell_v2", "discover_hosts"]
DISCOVER_TIMEOUT = 300  # seconds: only against a hung controller; discovery takes seconds


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
        if machine.enrolment.role == "controller" and cluster.first_master == serial and cluster.setting("initial_cluster_setup") is True:
            _end_initial_setup(store, cluster.name, serial)
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


def _discover_hosts(store: Store, cluster: str, serial: str) -> None:
    """Register the new compute with Nova's cell (nova-manage cell_v2 discover_hosts on a controller)."""
    controllers = sorted(
        (m for m in store.all(Machine) if m.enrolment is not None and m.enrolment.cluster == cluster and m.enrolment.role == "controller"
         and m.puppet_status is PuppetStatus.SUCCESS),
        key=lambda m: natural_key(m.enrolment.hostname if m.enrolment else m.serial),
    )  # fmt: skip
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
