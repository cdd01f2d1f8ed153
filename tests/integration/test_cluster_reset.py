"""``ocicli cluster-reset``: every machine of the cluster that is not live is rebooted into the live image
through machine-reboot-on-live, here over a real sshd (as tests/integration/test_reboot_via_node.py runs it:
its forced command records what it was asked instead of rebooting this machine); live ones are left alone."""

from __future__ import annotations

from dataclasses import replace

import sshnode
from conftest import NOW, free_port
from oci.cli.main import main
from oci.model import Machine, MachineStatus
from oci.service import machines
from oci.service import status as intake
from oci.store import Store

RECORDER = """#!/bin/sh
# Forced command of the test sshd: record the command; refuse ipmitool like a node without a local BMC interface.
echo "$SSH_ORIGINAL_COMMAND" >> {log}
case "$SSH_ORIGINAL_COMMAND" in ipmitool*) echo "Could not open device at /dev/ipmi0" >&2; exit 1 ;; esac
"""


def test_machines_not_live_are_rebooted_into_the_live_image_and_each_is_reported(store, discover, tmp_path, capsys):
    discover("C0", address="127.0.0.1")
    discover("C1", address="192.168.100.21")
    port = free_port()
    site = Store(store.root, lock_timeout=10, config=replace(store.config, ssh_port=port, ssh_connect_timeout=15))
    sshnode.enrolment_site(site)
    machines.add(site, "C0", "cl1", "controller", "loc1")
    machines.add(site, "C1", "cl1", "compute", "loc1")
    intake.record(site, "C0", "installing", None, NOW)  # stuck in its install: still the live image, at 127.0.0.1
    commands, recorder = tmp_path / "commands", tmp_path / "record"
    recorder.write_text(RECORDER.format(log=commands))
    recorder.chmod(0o755)
    with sshnode.running(sshnode.live_node_config(site, tmp_path, "C0", port, force_command=recorder), port):
        code = main(["cluster-reset", "cl1", "--yes"], store_factory=lambda: site)
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("cl1-controller-1.example.com: rebooting into the live image through the node; boot device not set: ")
    assert len(out.splitlines()) == 1  # C1 is live: left alone
    assert commands.read_text().splitlines() == ["ipmitool chassis bootdev pxe", "systemctl reboot --no-block"]
    assert site.get(Machine, "C0").status is MachineStatus.BOOTINGLIVE
    assert site.get(Machine, "C1").status is MachineStatus.LIVE
