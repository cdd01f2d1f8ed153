"""machine-reboot-on-*: through the node over SSH when it answers (a real sshd on loopback that holds a
live-CA host certificate and trusts the live user CA; its forced command records what it was asked instead
of rebooting this machine), else through the BMC (ipmi_sim)."""

from __future__ import annotations

import pytest
from simbmc import log, simulated_bmcs

import sshnode
from oci.errors import Conflict
from oci.model import Machine, MachineStatus
from oci.pki import ssh
from oci.service import bmcops

RECORDER = """#!/bin/sh
# Forced command of the test sshd: record the command; refuse ipmitool like a node without a local BMC interface.
echo "$SSH_ORIGINAL_COMMAND" >> {log}
case "$SSH_ORIGINAL_COMMAND" in ipmitool*) echo "Could not open device at /dev/ipmi0" >&2; exit 1 ;; esac
"""


@pytest.fixture
def node(store, discover, tmp_path):
    """Machine C0 in the live image at 127.0.0.1, with an sshd as the live image will run it: (store, sshd log)."""
    discover("C0", address="127.0.0.1")
    with sshnode.recording_live_node(store, tmp_path, "C0", RECORDER) as node:
        yield node


def recorded(commands):
    return commands.read_text().splitlines() if commands.exists() else []


def test_reboot_on_live_goes_through_the_node_when_it_answers(node):
    site, commands, _ = node
    result = bmcops.reboot(site, "C0", "live", through_node=True)
    assert recorded(commands) == ["ipmitool chassis bootdev pxe", "systemctl reboot --no-block"]
    assert result["via"] == "node" and result["status"] == "bootinglive"
    assert result["warning"].startswith("boot device not set")  # no local BMC interface, and no BMC access to fall back on
    assert site.get(Machine, "C0").status is MachineStatus.BOOTINGLIVE
    key = site.root / "ssh" / "master" / "id_ed25519"
    assert oct(key.stat().st_mode & 0o777) == "0o600"


def test_the_bmc_sets_the_boot_device_when_the_node_cannot_and_takes_over_when_the_node_is_gone(node, tmp_path):
    site, commands, sshd = node
    with simulated_bmcs(tmp_path / "bmc", 1) as [(target, state)]:
        bmcops.set_access(site, "C0", "yes", target.address, target.port, target.user, target.password)
        result = bmcops.reboot(site, "C0", "hdd", through_node=True)
        assert (result["via"], result["status"], "warning" in result) == ("node", "firstboot", False)
        assert recorded(commands) == ["ipmitool chassis bootdev disk options=persistent", "systemctl reboot --no-block"]
        assert log(state) == ["boot default"]  # set out of band instead (pyghmi's "hd" is ipmi_sim's default)
        sshd.terminate()
        sshd.communicate(timeout=10)
        result = bmcops.reboot(site, "C0", "live", through_node=True)
        assert (result["via"], result["status"]) == ("bmc", "bootinglive")
        assert "nothing answers on 127.0.0.1" in result["node_error"]
        assert log(state)[-2:] == ["boot pxe", "power 1"]


def test_a_node_with_another_host_certificate_is_not_trusted(node, tmp_path):
    site, commands, _ = node
    # The node at C0's address answers with the live CA's certificate... for another serial.
    ssh_folder = tmp_path
    other = ssh.sign(site, None, (ssh_folder / "host_key.pub").read_text().strip(), "oci-host-C9", ["c9.oci-debian-live"])
    (ssh_folder / "host_key-cert.pub").write_text(other + "\n")
    _, _, sshd = node
    sshd.send_signal(1)  # SIGHUP: sshd re-reads its host certificate
    sshnode.wait_for_certificate(site.config.ssh_port, sshd, other)
    with pytest.raises(Conflict, match="cannot reach C0 over SSH.*no BMC access configured"):
        bmcops.reboot(site, "C0", "live", through_node=True)
    assert recorded(commands) == []
    assert site.get(Machine, "C0").status is MachineStatus.LIVE
