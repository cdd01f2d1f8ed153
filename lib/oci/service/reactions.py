"""What the master does after a machine's Puppet run succeeds (docs/puppet-runs.md, "Reactions"): the first
controller's success ends the cluster's initial setup, a new compute is registered with Nova, and the ENC of
the other hosts follows. Called by the status intake once, when a machine's Puppet status becomes success."""

from __future__ import annotations

from oci.store import Store


def after_puppet_success(store: Store, serial: str) -> None:
    """Run outside the machine's lock (it may take other locks and reach other nodes over SSH). Never raises
    for a failed reaction: the failure is logged and the machine's history says so."""
    del store, serial  # filled in by the cluster-install work (issue 17)
