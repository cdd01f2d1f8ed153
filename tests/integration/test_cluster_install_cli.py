"""``ocicli cluster-install`` end to end but for the node's own work: the real machine-install-os hands the
bundle to a live node's sshd (as tests/integration/test_install_handover.py does), and the node's
``oci-install`` is a small program that reports the phases a node goes through (installing ... puppet-success,
or a Puppet failure) straight into the state, as the status route would record them. The command polls until
the stage is done or failed; the test only waits for the command to end."""

from __future__ import annotations

import os
import select
import sys
from pathlib import Path

import pytest

import sshnode
from conftest import REPO, free_port
from oci.cli.main import main

GUARD = 120  # seconds: only against a run that would hang; the fake node reports in well under a second
FAKE_INSTALLER = """#!{python}
# oci-install as the test's node has it: report each phase of an install and a first Puppet run, then say so.
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, "{lib}")
from oci.service import status
from oci.store import Store

store = Store(Path("{state}"), lock_timeout=30)
last = Path("{out}/outcome").read_text().strip()
for phase in ("installing", "firstboot", "installed", "puppet-running", last):
    status.record(store, "C0", phase, None, datetime.now(UTC))
Path("{out}/done").write_text("done")
"""
SESSION = """#!/bin/sh
# Forced command of the test sshd: the client's command with its own /run, and the fake installer on the PATH.
export PATH={bin}:$PATH
exec unshare --mount --propagation private /bin/sh -c 'mount -t tmpfs oci-test-run /run && exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"'
"""


@pytest.fixture
def node(tmp_path: Path, puppet_ca: Path):
    """Cluster cl1 whose one machine, controller C0, is live at 127.0.0.1 with its sshd: (store, out folder)."""
    port = free_port()
    store = sshnode.controller_store(tmp_path, port, puppet_ca)
    out, bin_dir = tmp_path / "node", tmp_path / "bin"
    out.mkdir()
    bin_dir.mkdir()
    installer = bin_dir / "oci-install"
    installer.write_text(FAKE_INSTALLER.format(python=sys.executable, lib=REPO / "lib", state=tmp_path / "state", out=out))
    installer.chmod(0o755)
    session = tmp_path / "session"
    session.write_text(SESSION.format(bin=bin_dir))
    session.chmod(0o755)
    os.mkfifo(out / "done")
    # Open before the writer, so the fake never blocks; read once the command ended: the fake has stopped writing.
    reader = os.open(out / "done", os.O_RDONLY | os.O_NONBLOCK)
    try:
        with sshnode.running(sshnode.live_node_config(store, tmp_path, "C0", port, force_command=session), port):
            yield store, out
            ready, _, _ = select.select([reader], [], [], GUARD)
            assert ready and os.read(reader, 10) == b"done", "the fake installer did not finish"
    finally:
        os.close(reader)


def test_a_stage_is_installed_and_waited_for_until_puppet_success(node, capsys):
    store, out = node
    (out / "outcome").write_text("puppet-success")
    code = main(["cluster-install", "cl1", "--poll", "0.2", "--timeout", str(GUARD)], store_factory=lambda: store)
    printed = capsys.readouterr().out.splitlines()
    assert code == 0, printed
    # Which phases a poll catches depends on the machine's load; the last one is always seen.
    assert printed[-2].startswith("cl1-controller-1.example.com (controller): installed, puppet success (")
    assert printed[-1] == "cluster cl1: 1 machine(s) installed in 1 stage(s)"


def test_a_puppet_failure_stops_with_the_machine_and_its_error(node, capsys):
    store, out = node
    (out / "outcome").write_text("puppet-failure")
    code = main(["cluster-install", "cl1", "--poll", "0.2", "--timeout", str(GUARD)], store_factory=lambda: store)
    printed = capsys.readouterr().out.splitlines()
    assert code == 4, printed
    assert printed[-1] == "cl1-controller-1.example.com (C0): Puppet failed: no run report; later stages not started"
