"""Reactions that reach other nodes, over a real sshd holding an installed node's cluster host certificate and
trusting the cluster's user CA: a compute's Puppet success registers it with Nova (the master runs ``nova-manage
cell_v2 discover_hosts`` as user nova on a controller whose Puppet succeeded); the success that makes every
controller ready has a hyper-converged compute run Puppet again (its first-run unit restarted, marker written).
The operator's login that ``oci-poc vms --keep`` writes reaches the same node.

Nova and systemd do not run here, so on that "node" ``nova-manage`` and ``systemctl`` are scripts in
/usr/local/bin that write who ran them and with what arguments (or fail, when the test says so). Each session
of the sshd runs in its own mount namespace where /etc/passwd and /etc/group have a ``nova`` user, so ``runuser
-u nova`` really switches to it, and where /usr/local and /var/lib are folders of the test (the test's own
folders are closed to other users).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest

import sshnode
from conftest import free_port
from oci import remote
from oci.model import Machine
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
FAKE_SYSTEMCTL = """#!/bin/sh
# systemctl as the test's node has it: what it was asked, and whether the unit's marker was there by then.
if [ -e /var/lib/oci/puppet-first-run ]; then echo "marker" > /usr/local/out/marker; fi
echo "$*" > /usr/local/out/systemctl
"""
SESSION = """#!/bin/sh
# Forced command of the test sshd: the client's command where /etc/passwd has a nova user, nova-manage and
# systemctl on the PATH, /var/lib a folder of the test.
export PATH=/usr/local/bin:$PATH
exec unshare --mount --propagation private /bin/sh -c 'mount --bind {etc}/passwd /etc/passwd && mount --bind {etc}/group /etc/group \
    && mount --bind {local} /usr/local && mount --bind {var_lib} /var/lib && exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"'
"""


def reports(store, serial, address=None):
    for minutes, phase in enumerate(("installing", "firstboot", "installed", "puppet-running", "puppet-success")):
        intake.record(store, serial, phase, address if phase != "installing" else None, T0 + timedelta(minutes=minutes))


@contextlib.contextmanager
def node(site: Store, tmp_path: Path, serial: str, hostname: str, port: int) -> Iterator[Path]:
    """The installed node ``serial`` (``hostname``) at 127.0.0.1: its sshd with the cluster's host certificate,
    each session in the namespace SESSION makes; yields the folder its fake commands write in."""
    local, etc, var_lib = tmp_path / "usr-local", tmp_path / "etc", tmp_path / "var-lib"
    out, bin_dir = local / "out", local / "bin"
    for folder in (local, out, bin_dir, etc, var_lib, var_lib / "oci"):
        folder.mkdir()
    local.chmod(0o755)
    out.chmod(0o777)  # nova-manage writes there as nova
    (etc / "passwd").write_text(Path("/etc/passwd").read_text() + NOVA)
    (etc / "group").write_text(Path("/etc/group").read_text() + "nova:x:64060:\n")
    for name, script in (("nova-manage", FAKE_NOVA_MANAGE), ("systemctl", FAKE_SYSTEMCTL)):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    session = tmp_path / "session"
    session.write_text(SESSION.format(local=local, etc=etc, var_lib=var_lib))
    session.chmod(0o755)
    with sshnode.installed_node(site, tmp_path, "cl1", serial, hostname, port, force_command=session):
        yield out


def site_of(store: Store) -> tuple[Store, int]:
    port = free_port()
    site = Store(store.root, lock_timeout=10, config=replace(store.config, ssh_port=port, ssh_connect_timeout=15))
    sshnode.enrolment_site(site)
    return site, port


@pytest.fixture
def controller(store, discover, tmp_path):
    """cl1 with controller C0 installed at 127.0.0.1 (its sshd running) and compute C1: (store, out folder)."""
    site, port = site_of(store)
    discover("C0", address="127.0.0.1")
    discover("C1", address="192.168.100.21")
    hostname = machines.add(site, "C0", "cl1", "controller", "loc1")["hostname"]
    machines.add(site, "C1", "cl1", "compute", "loc1")
    reports(site, "C0", IPv4Address("127.0.0.1"))
    reactions.after_puppet_success(site, "C0")  # the first controller: the initial setup is over
    with node(site, tmp_path, "C0", hostname, port) as out:
        yield site, out


def test_a_compute_is_registered_as_nova_on_a_successful_controller(controller):
    site, out = controller
    reports(site, "C1")
    reactions.after_puppet_success(site, "C1")
    assert (out / "ran").read_text() == "nova cell_v2 discover_hosts\n"
    history = site.get(Machine, "C1").history
    assert history[-1].detail == "registered with Nova: nova-manage cell_v2 discover_hosts on cl1-controller-1.example.com"


def test_an_operator_login_from_login_config_reaches_the_installed_node(controller, tmp_path):
    """The ssh_config oci-poc vms --keep writes (remote.login_config): the same checks as the master's own calls."""
    site, out = controller
    folder = tmp_path / "ssh-login"
    (tmp_path / "ssh_config").write_text(remote.login_config(site, "C0", "c0", folder))
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    argv = ["ssh", "-F", str(tmp_path / "ssh_config"), "-o", "BatchMode=yes", "c0", "echo logged in as $(id -un)"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, "logged in as root\n"), done.stderr


def test_a_failed_discovery_is_a_history_line(controller):
    site, out = controller
    (out / "fail").touch()
    reports(site, "C1")
    reactions.after_puppet_success(site, "C1")  # does not raise
    assert not (out / "ran").exists()
    assert site.get(Machine, "C1").history[-1].detail == (
        "nova-manage cell_v2 discover_hosts on cl1-controller-1.example.com failed (exit code 1: ERROR: cell0 is not mapped)"
    )


@pytest.fixture
def hyperconverged(store, discover, tmp_path):
    """cl1 with controllers C0 and C1, and the hyper-converged compute H0 installed at 127.0.0.1 (its sshd
    running): (store, out folder)."""
    site, port = site_of(store)
    discover("C0", address="192.168.100.20")
    discover("C1", address="192.168.100.21")
    discover("H0", address="127.0.0.1")
    for serial in ("C0", "C1"):
        machines.add(site, serial, "cl1", "controller", "loc1")
    hostname = machines.add(site, "H0", "cl1", "compute", "loc1")["hostname"]
    machines.set_(site, "H0", {"compute_is_cephosd": True}, [])
    reports(site, "H0", IPv4Address("127.0.0.1"))
    with node(site, tmp_path, "H0", hostname, port) as out:
        yield site, out


def test_the_last_controller_ready_has_hyperconverged_computes_run_puppet_again(hyperconverged):
    site, out = hyperconverged
    reports(site, "C0")
    reactions.after_puppet_success(site, "C0")  # C1 is not ready yet: H0 stays an OSD
    assert not (out / "systemctl").exists()
    reports(site, "C1")
    reactions.after_puppet_success(site, "C1")
    assert (out / "systemctl").read_text() == "restart --no-block oci-puppet-first-run.service\n"
    assert (out / "marker").exists(), "the unit's marker was written before the restart"
    assert site.get(Machine, "H0").history[-1].detail == (
        "Puppet runs again, as a compute: every controller is ready (cl1-controller-2.example.com was the last)"
    )


def test_a_hyperconverged_compute_that_cannot_start_puppet_is_a_history_line(hyperconverged):
    site, out = hyperconverged
    (out.parent / "bin" / "systemctl").write_text("#!/bin/sh\necho 'Failed to restart: unit not found' >&2\nexit 5\n")
    for serial in ("C0", "C1"):
        reports(site, serial)
        reactions.after_puppet_success(site, serial)  # does not raise
    assert site.get(Machine, "H0").history[-1].detail == (
        "Puppet not started again as a compute (exit code 5: Failed to restart: unit not found)"
    )
