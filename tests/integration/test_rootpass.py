"""machine-gen-root-pass and machine-forget-root-pass against an installed node's real sshd (its cluster host
certificate; its forced command records the command and what it reads instead of changing this machine's root
password): the password travels on standard input only, the master's copy is 0600, and a failure keeps the copy
as it was."""

from __future__ import annotations

import json
import stat
from dataclasses import replace
from datetime import UTC, datetime
from ipaddress import IPv4Address

import pytest

import sshnode
from conftest import free_port
from oci.errors import OciError
from oci.service import machines, rootpass
from oci.service import status as intake
from oci.store import Store

RECORDER = """#!/bin/sh
echo "$SSH_ORIGINAL_COMMAND" >> {log}
cat >> {log}.stdin
"""


@pytest.fixture
def installed(store, discover, tmp_path):
    """C0 installed as cl1-compute-1 at 127.0.0.1, with its sshd: (store, hostname, recorded commands, the sshd)."""
    port = free_port()
    site = Store(store.root, lock_timeout=10, config=replace(store.config, ssh_port=port, ssh_connect_timeout=15))
    sshnode.enrolment_site(site)
    discover("C0", address="127.0.0.1")
    hostname = machines.add(site, "C0", "cl1", "compute", "loc1")["hostname"]
    now = datetime.now(UTC).replace(microsecond=0)
    for status in ("installing", "firstboot", "installed"):
        intake.record(site, "C0", status, IPv4Address("127.0.0.1") if status == "installed" else None, now)
    log = tmp_path / "commands"
    recorder = tmp_path / "record"
    recorder.write_text(RECORDER.format(log=log))
    recorder.chmod(0o755)
    with sshnode.installed_node(site, tmp_path, "cl1", "C0", hostname, port, force_command=recorder) as sshd:
        yield site, hostname, log, sshd


def test_a_password_set_on_stdin_kept_0600_and_forgotten(installed):
    site, hostname, log, _ = installed
    done = rootpass.generate(site, hostname)
    password = done["password"]
    assert (done["serial"], done["hostname"], len(password)) == ("C0", hostname, 16)
    assert log.read_text().splitlines() == ["chpasswd"]  # nothing of the password in the command
    assert log.with_name("commands.stdin").read_text() == f"root:{password}\n"
    copy = site.blob_path(rootpass.FOLDER, "C0")
    assert copy.read_text() == f"{password}\n" and stat.S_IMODE(copy.stat().st_mode) == 0o600
    audit = (site.root / "audit.log").read_text() if (site.root / "audit.log").exists() else ""
    assert password not in audit
    assert rootpass.generate(site, "C0")["password"] != password  # a new one each time
    assert rootpass.forget(site, "C0") == {"serial": "C0", "forgotten": True}
    assert not copy.exists() and rootpass.forget(site, "C0")["forgotten"] is False


def test_a_node_that_does_not_answer_keeps_the_copy_as_it_was(installed):
    site, _, _, sshd = installed
    first = rootpass.generate(site, "C0")["password"]
    sshd.terminate()
    sshd.communicate(timeout=10)
    with pytest.raises(OciError, match="cannot reach C0 over SSH|nothing answers"):
        rootpass.generate(site, "C0")
    assert site.blob_path(rootpass.FOLDER, "C0").read_text() == f"{first}\n"


def test_only_an_installed_machine_gets_one(store, discover):
    discover("L1")
    with pytest.raises(OciError, match="^machine L1 is live: a root password is given to an installed machine$"):
        rootpass.generate(store, "L1")
    assert json.dumps(rootpass.forget(store, "L1")) == '{"serial": "L1", "forgotten": false}'
