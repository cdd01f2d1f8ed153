"""A compute's Puppet success registers it with Nova: the master runs ``nova-manage cell_v2 discover_hosts``
as user nova on a controller whose Puppet succeeded, over a real sshd holding the installed controller's
cluster host certificate and trusting the cluster's user CA.

Nova cannot run here, so on that "node" ``nova-manage`` is a script in /usr/local/bin that writes who ran it
and with what arguments (or fails, when the test says so). Each session of the sshd runs in its own mount
namespace where /etc/passwd and /etc/group have a ``nova`` user, so ``runuser -u nova`` really switches to it,
and where /usr/local is a folder of the test (the test's own folders are closed to other users).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest

import sshnode
from conftest import free_port
from oci.model import Machine
from oci.pki import ssh
from oci.service import machines, reactions
from oci.service import status as intake
from oci.store import Store

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
NOVA = "nova:x:64060:64060:OpenStack Nova:/var/lib/nova:/usr/sbin/nologin\n"
FAKE_NOVA_MANAGE = """#!/bin/sh
# nova-manage as the test's controller has it: say who ran it and how, or fail as a broken cell would.
if [ -e /usr/local/out/fail ]; then echo "ERROR: cell0 is not mapped" >&2; exit 1; fi
echo "$(id -un) $*" > /usr/local/out/ran
echo "Found 2 cell mappings."
"""
SESSION = """#!/bin/sh
# Forced command of the test sshd: the client's command where /etc/passwd has a nova user, nova-manage on the PATH.
export PATH=/usr/local/bin:$PATH
exec unshare --mount --propagation private /bin/sh -c 'mount --bind {etc}/passwd /etc/passwd && mount --bind {etc}/group /etc/group \
    && mount --bind {local} /usr/local && exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"'
"""


def reports(store, serial, address=None):
    for minutes, phase in enumerate(("installing", "firstboot", "installed", "puppet-running", "puppet-success")):
        intake.record(store, serial, phase, address if phase != "installing" else None, T0 + timedelta(minutes=minutes))


@pytest.fixture
def controller(store, discover, tmp_path):
    """cl1 with controller C0 installed at 127.0.0.1 (its sshd running) and compute C1: (store, out folder)."""
    port = free_port()
    site = Store(store.root, lock_timeout=10, config=replace(store.config, ssh_port=port, ssh_connect_timeout=15))
    sshnode.enrolment_site(site)
    discover("C0", address="127.0.0.1")
    discover("C1", address="192.168.100.21")
    hostname = machines.add(site, "C0", "cl1", "controller", "loc1")["hostname"]
    machines.add(site, "C1", "cl1", "compute", "loc1")
    reports(site, "C0", IPv4Address("127.0.0.1"))
    reactions.after_puppet_success(site, "C0")  # the first controller: the initial setup is over

    local, etc = tmp_path / "usr-local", tmp_path / "etc"
    out, bin_dir = local / "out", local / "bin"
    for folder in (local, out, bin_dir, etc):
        folder.mkdir()
    local.chmod(0o755)
    out.chmod(0o777)  # nova-manage writes there as nova
    (etc / "passwd").write_text(Path("/etc/passwd").read_text() + NOVA)
    (etc / "group").write_text(Path("/etc/group").read_text() + "nova:x:64060:\n")
    (bin_dir / "nova-manage").write_text(FAKE_NOVA_MANAGE)
    (bin_dir / "nova-manage").chmod(0o755)
    session = tmp_path / "session"
    session.write_text(SESSION.format(local=local, etc=etc))
    session.chmod(0o755)
    # The installed controller: a host certificate of the cluster's host CA for its FQDN, the cluster's user CA trusted.
    config = sshnode.live_node_config(site, tmp_path, "C0", port, force_command=session)
    ssh.ensure_cas(site, "cl1")
    public = (tmp_path / "host_key.pub").read_text().strip()
    (tmp_path / "host_key-cert.pub").write_text(ssh.sign(site, "cl1", public, "oci-host-C0", [hostname]) + "\n")
    (tmp_path / "user_ca.pub").write_text(ssh.public_ca(site, "cl1", "user_ca") + "\n")
    with sshnode.running(config, port):
        yield site, out


def test_a_compute_is_registered_as_nova_on_a_successful_controller(controller):
    site, out = controller
    reports(site, "C1")
    reactions.after_puppet_success(site, "C1")
    assert (out / "ran").read_text() == "nova cell_v2 discover_hosts\n"
    history = site.get(Machine, "C1").history
    assert history[-1].detail == "registered with Nova: nova-manage cell_v2 discover_hosts on cl1-controller-1.example.com"


def test_a_failed_discovery_is_a_history_line(controller):
    site, out = controller
    (out / "fail").touch()
    reports(site, "C1")
    reactions.after_puppet_success(site, "C1")  # does not raise
    assert not (out / "ran").exists()
    assert site.get(Machine, "C1").history[-1].detail == (
        "nova-manage cell_v2 discover_hosts on cl1-controller-1.example.com failed (exit code 1: ERROR: cell0 is not mapped)"
    )
