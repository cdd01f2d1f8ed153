"""machine-install-os hands the bundle to a live node over a real sshd (a live-CA host certificate, the live
user CA trusted, as the live image runs it) and starts oci-install there.

Each session of the test sshd runs in its own mount namespace with a fresh /run, so the bundle lands in the
session's /run/oci-install/bundle.tar (never this machine's, and two test runs at once do not meet). On that
"node" oci-install is a small script on the PATH that keeps what it was given (its argv, the bundle and its
mode) in the test's folder, deletes the bundle as the real one does, and says it ran through a FIFO the test
waits on (the real installer is tested on a loop device elsewhere).
"""

from __future__ import annotations

import hashlib
import os
import select
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest
from simbmc import log, simulated_bmcs

import sshnode
from conftest import NOW, free_port
from oci.errors import Conflict
from oci.install.bundle import unpack
from oci.model import BmcAccess, Machine, MachineStatus
from oci.pki import ssh
from oci.remote import NodeUnreachable
from oci.service import bmcops, install, tokens
from oci.store import Store
from wsgi_client import Client

FAKE_INSTALLER = """#!/bin/sh
# oci-install as the test's node has it: keep what it was given, delete the bundle, say it ran.
bundle=$2
echo "$@" > {out}/argv
stat -c '%a' "$bundle" "${{bundle%/*}}" > {out}/modes
cp "$bundle" {out}/bundle.tar
rm "$bundle"
echo ran > {out}/ran
"""
SESSION = """#!/bin/sh
# Forced command of the test sshd: the client's command with its own /run, and the fake installer on the PATH.
export PATH={bin}:$PATH
exec unshare --mount --propagation private /bin/sh -c 'mount -t tmpfs oci-test-run /run && exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"'
"""
T = TypeVar("T")
GUARD = 120  # seconds: only against a test that would hang; the fake installer answers in milliseconds


@pytest.fixture
def node(tmp_path: Path, puppet_ca: Path):
    """Machine C0 live at 127.0.0.1 and enrolled in cl1, an sshd for it: (store, folder the fake installer writes to, sshd)."""
    port = free_port()
    store = sshnode.controller_store(tmp_path, port, puppet_ca)

    out, bin_dir = tmp_path / "node", tmp_path / "bin"
    out.mkdir()
    bin_dir.mkdir()
    installer = bin_dir / "oci-install"
    installer.write_text(FAKE_INSTALLER.format(out=out))
    installer.chmod(0o755)
    session = tmp_path / "session"
    session.write_text(SESSION.format(bin=bin_dir))
    session.chmod(0o755)
    with sshnode.running(sshnode.live_node_config(store, tmp_path, "C0", port, force_command=session), port) as sshd:
        yield store, out, sshd


def started(out: Path, hand_over: Callable[[], T]) -> T:
    """``hand_over()``'s result, once the detached fake installer has said it ran (a FIFO read: no polling)."""
    os.mkfifo(out / "ran")
    reader = os.open(out / "ran", os.O_RDONLY | os.O_NONBLOCK)  # open before the writer: it then never blocks
    try:
        result = hand_over()
        ready, _, _ = select.select([reader], [], [], GUARD)
        assert ready, "the installer did not start on the node"
        assert os.read(reader, 100) == b"ran\n"
        return result
    finally:
        os.close(reader)


def test_the_bundle_reaches_the_node_0600_and_oci_install_starts_there(node):
    store, out, _ = node
    result = started(out, lambda: install.install_os(store, "C0"))
    assert result["status"] == "installing" and result["address"] == "127.0.0.1" and result["bmc"] == "none"
    assert (out / "argv").read_text() == "--bundle /run/oci-install/bundle.tar --log /var/log/oci-install.log\n"
    assert (out / "modes").read_text() == "600\n700\n"  # the bundle, its folder
    arrived = (out / "bundle.tar").read_bytes()
    assert (len(arrived), hashlib.sha256(arrived).hexdigest()) == (result["bundle_bytes"], result["bundle_sha256"])
    plan, files = unpack(arrived)
    expected_plan, expected = install.plan_for(store, "C0")  # the same but for a new SSH host key and Puppet certificate
    assert plan == expected_plan and sorted(files) == sorted(expected)
    fresh = {path for path in expected if path.startswith(("etc/ssh/ssh_host_ed25519_key", "var/lib/puppet/ssl/"))}
    assert "var/lib/puppet/ssl/private_keys/cl1-controller-1.example.com.pem" in fresh
    assert {p: files[p] for p in files if p not in fresh} == {p: expected[p] for p in expected if p not in fresh}
    machine = store.get(Machine, "C0")
    assert machine.status is MachineStatus.INSTALLING and machine.history[-1].status == "installing"
    # The key the bundle carries is kept for the installed system's first report (it becomes the machine's then).
    assert machine.install.host_key == " ".join(files["etc/ssh/ssh_host_ed25519_key.pub"].data.decode().split()[:2])
    with pytest.raises(Conflict, match="^machine C0 is installing, not live$"):
        install.install_os(store, "C0")


def test_through_the_http_api(node):
    store, out, _ = node
    token = tokens.create(store, "ops", NOW)
    status, reply = started(out, lambda: Client(store).call("POST", "/api/v1/machines/C0/install-os", body={}, token=token))
    assert status == 200 and reply["data"]["status"] == "installing"
    assert hashlib.sha256((out / "bundle.tar").read_bytes()).hexdigest() == reply["data"]["bundle_sha256"]
    status, reply = Client(store).call("POST", "/api/v1/machines/C0/install-os", body={}, token=token)
    assert (status, reply["message"]) == (409, "machine C0 is installing, not live")


def test_a_failed_hand_over_leaves_the_machine_live(node):
    store, out, sshd = node
    (out.parent / "bin" / "oci-install").unlink()  # the node has no installer: the start fails, the bundle is removed
    with pytest.raises(Conflict, match="^oci-install did not start on C0: oci-install: not found$"):
        install.install_os(store, "C0")
    assert store.get(Machine, "C0").status is MachineStatus.LIVE
    sshd.terminate()
    sshd.communicate(timeout=30)
    with pytest.raises(NodeUnreachable, match="nothing answers on 127.0.0.1"):
        install.install_os(store, "C0")
    machine = store.get(Machine, "C0")
    assert machine.status is MachineStatus.LIVE and [c.status for c in machine.history[-2:]] == ["installing", "live"]
    # Recorded as the install's failure at its hand-over, as machine-show and machine-wait-for-install tell it.
    assert machine.install is not None and machine.install.failed_step == "handover"
    assert (machine.history[-1].detail or "").startswith("install failed at handover: nothing answers on 127.0.0.1:")
    assert not (out / "bundle.tar").exists()


def test_a_node_with_another_machines_certificate_gets_no_bundle(node, tmp_path):
    store, out, sshd = node
    other = ssh.sign(store, None, (tmp_path / "host_key.pub").read_text().strip(), "oci-host-C9", ["c9.oci-debian-live"])
    (tmp_path / "host_key-cert.pub").write_text(other + "\n")
    sshd.send_signal(1)  # SIGHUP: sshd re-reads its host certificate
    sshnode.wait_for_certificate(store.config.ssh_port, sshd, other)
    with pytest.raises(NodeUnreachable, match="cannot reach C0 over SSH"):
        install.install_os(store, "C0")
    assert store.get(Machine, "C0").status is MachineStatus.LIVE
    assert not (out / "bundle.tar").exists()


def test_the_bmc_boots_the_disk_from_now_on_and_a_failing_bmc_is_a_warning(node, tmp_path):
    store, out, _ = node
    with simulated_bmcs(tmp_path / "bmc", 1) as [(target, state)]:
        bmcops.set_access(store, "C0", "yes", target.address, target.port, target.user, target.password)
        result = started(out, lambda: install.install_os(store, "C0"))
        assert (result["bmc"], "warning" in result) == ("boot from disk", False)
        assert log(state) == ["boot default"]  # persistent, to the disk (pyghmi's "hd" is ipmi_sim's default)
    (out / "ran").unlink()
    with store.machine_lock(["C0"]):
        store.write_machine(replace(store.get(Machine, "C0"), status=MachineStatus.LIVE))
    quick = Store(store.root, lock_timeout=10, config=replace(store.config, bmc_timeout=1, bmc_retries=0))
    bmcops.set_access(quick, "C0", "yes", "127.0.0.1", free_port(), "oci", "secret")  # nothing answers there
    result = started(out, lambda: install.install_os(quick, "C0"))
    assert result["bmc"] == "failed" and result["warning"].startswith("the BMC did not take the boot device: ")
    assert quick.get(Machine, "C0").status is MachineStatus.INSTALLING
    # A numbering the agent has not confirmed yet is no BMC to ask: the install does not wait on its timeouts.
    (out / "ran").unlink()
    with quick.machine_lock(["C0"]):
        quick.write_machine(replace(quick.get(Machine, "C0"), status=MachineStatus.LIVE))
    with quick.topology_lock():
        tx = quick.transaction()
        tx.put(replace(quick.get(BmcAccess, "C0"), pending=True))
        tx.commit()
    result = started(out, lambda: install.install_os(quick, "C0"))
    assert (result["bmc"], "warning" in result) == ("none", False)
