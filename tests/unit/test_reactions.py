"""The reactions to a successful Puppet run (service/reactions.py): the first controller ends the cluster's
initial setup and refreshes its hosts' ENC; a compute is registered with Nova on a controller (the real SSH
side: tests/integration/test_reactions_nova.py); a failed reaction is a history line, never an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from test_enc import build

from oci.enc import refresh
from oci.model import Cluster, Machine
from oci.service import clusters, reactions
from oci.service import status as intake

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def puppet_success(store, serial):
    """The reports of an install and a first Puppet run that succeeded, as the node sends them."""
    for minutes, phase in enumerate(("installing", "firstboot", "installed", "puppet-running", "puppet-success")):
        intake.record(store, serial, phase, None, T0 + timedelta(minutes=minutes))


def setup(store):
    return store.get(Cluster, "cl1").setting("initial_cluster_setup")


def test_the_first_controller_ends_the_initial_setup_and_refreshes_the_enc(store, discover):
    build(store, discover, "minimal")
    folder = refresh.folder("cl1")
    store.remove_blob(refresh.FOLDER, folder, "cl1-compute-1.example.com.yaml")  # a host file out of date
    puppet_success(store, "CL1S01")  # not the first master: nothing happens
    reactions.after_puppet_success(store, "CL1S01")
    assert setup(store) is True
    puppet_success(store, "CL1S00")
    reactions.after_puppet_success(store, "CL1S00")
    assert setup(store) is False
    assert store.read_blob(refresh.FOLDER, folder, "cl1-compute-1.example.com.yaml") is not None
    assert store.get(Machine, "CL1S00").history[-1].detail == "cluster cl1: initial setup done, the ENC of its hosts refreshed"
    reactions.after_puppet_success(store, "CL1S00")  # a second success: the setup is over already
    assert [h.detail for h in store.get(Machine, "CL1S00").history].count(store.get(Machine, "CL1S00").history[-1].detail) == 1


def test_a_compute_waits_for_the_initial_setup(store, discover):
    build(store, discover, "minimal")
    puppet_success(store, "CL1S03")
    before = store.get(Machine, "CL1S03")
    reactions.after_puppet_success(store, "CL1S03")
    assert store.get(Machine, "CL1S03") == before


def test_a_compute_without_a_reachable_controller_is_a_history_line(store, discover):
    build(store, discover, "minimal")
    clusters.set_(store, "cl1", {"initial_cluster_setup": False}, [])
    puppet_success(store, "CL1S03")
    reactions.after_puppet_success(store, "CL1S03")
    assert store.get(Machine, "CL1S03").history[-1].detail == (
        "not registered with Nova: no controller of the cluster has a successful Puppet run"
    )
    puppet_success(store, "CL1S01")  # the controller's address is not this machine's: SSH cannot reach it
    reactions.after_puppet_success(store, "CL1S03")
    detail = store.get(Machine, "CL1S03").history[-1].detail
    assert detail.startswith("nova-manage cell_v2 discover_hosts on cl1-controller-2.example.com failed: nothing answers on 192.168.")


def test_a_machine_gone_or_not_successful_is_left_alone(store, discover):
    build(store, discover, "minimal")
    reactions.after_puppet_success(store, "NOSUCH")
    reactions.after_puppet_success(store, "CL1S00")  # its Puppet has not run (a report older than a reinstall)
    assert setup(store) is True
