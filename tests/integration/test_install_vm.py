"""An install end to end on a virtual machine, in the lab of tests/vmlab.py: the VM network-boots the live
image (make live-image), reports, is enrolled (``machine-add``), installed (``machine-install-os``, followed by
``machine-wait-for-install``), reboots through PXE to its own disk (``/boot/ipxe`` answers "boot from the local
disk" once it is ``firstboot``), and its first boot reports ``installed``; the master then logs in over SSH,
checked by the cluster's CAs, and the host answers with its FQDN. Once on one disk (BIOS), once on two disks
in RAID 1 (mdadm runs in the guest: this machine's kernel has none).

Debian's packages come through the lab's package cache (apt-cacher-ng on the host, at the master's address
:3142 for the guests), kept across runs in /var/cache/oci-tests/apt-cacher-ng-vm: the first run fills it.
Tens of minutes under TCG, so the installs run only under ``make vm-install-test`` (OCI_VM_INSTALL=1), which
builds the live image with the live SSH CA of ``OCI_VM_LAB_STATE`` (the lab's master must be the one whose
user CA the image trusts). The figures printed are in docs/install-vm.md and docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import puppetserver
import vmlab
from conftest import REPO
from oci import config
from oci.pki import ssh
from oci.store import Store

LIVE = Path(os.environ.get("OCI_LIVE_IMAGE_DIR", REPO / "dist" / "live"))
LAB_STATE = Path(os.environ.get("OCI_VM_LAB_STATE", REPO / "build" / "vm-lab" / "state"))
LIVE_LIMIT = 900  # seconds: guards (TCG on a loaded 2-core machine), never figures
# The slowest install seen: more than 80 minutes, beside a CI run, another TCG VM and a benchmark.
INSTALL_LIMIT = 4 * 3600
FIRST_BOOT_LIMIT = 1200
PUPPET_LIMIT = 3600
PUPPET_PORT = 8140
ROLE = "dns"
# The management network is the lab's own subnet, below the DHCP range: the installed node reaches the master
# at the address it booted from, and the master is its gateway (network + 1).
MGMT_FIRST, MGMT_LAST = "10.252.0.10", "10.252.0.100"
# Run in the lab's namespace by the test: what remote.run_on (the cluster's CAs both ways) gets from the node.
ON_NODE = """
import sys
from oci import config, remote
from oci.store import Store
cfg = config.load()
store = Store.open(cfg)
node = remote.node_of(store, sys.argv[1])
print(node.address)
print(remote.run_on(store, node, sys.argv[2:]), end="")
"""


@pytest.fixture
def lab():
    if os.geteuid() != 0:
        pytest.skip("network namespaces, taps and nftables need root")
    missing = vmlab.missing_tools()
    if missing:
        pytest.fail(f"missing: {', '.join(missing)}: run make deps")
    with vmlab.network() as made:
        yield made


def test_guests_reach_the_package_cache_at_the_masters_address(lab, tmp_path):
    """A guest of the lab (a namespace on the bridge, as a VM would be) reaches the cache at 10.252.0.1:3142;
    apt-cacher-ng's own report page, so no fetch from the mirror.

    Only under make vm-install-test, like the installs: the cache's veth pair has an end in the host's
    namespace, which a suite running beside this one would see among this machine's NICs
    (test_agent_e2e compares the agent's report with them)."""
    if not os.environ.get("OCI_VM_INSTALL"):
        pytest.skip("puts a veth in the host's namespace: make vm-install-test runs it (OCI_VM_INSTALL=1)")
    guest = f"{lab.ns}-g"
    vmlab.sh("ip", "netns", "add", guest)
    try:
        vmlab.sh("ip", "-n", lab.ns, "link", "add", "guest0", "type", "veth", "peer", "name", "eth0", "netns", guest)
        vmlab.sh("ip", "-n", lab.ns, "link", "set", "guest0", "master", "br0")
        vmlab.sh("ip", "-n", lab.ns, "link", "set", "guest0", "up")
        vmlab.sh("ip", "-n", guest, "addr", "add", "10.252.0.50/24", "dev", "eth0")
        vmlab.sh("ip", "-n", guest, "link", "set", "eth0", "up")
        with vmlab.package_cache(lab, tmp_path) as mirror:
            assert mirror == "http://10.252.0.1:3142/deb.debian.org/debian"
            page = vmlab.sh("ip", "netns", "exec", guest, "curl", "-sS", "--max-time", "60", f"http://{vmlab.MASTER}:3142/acng-report.html")
            assert "Apt-Cacher NG" in page
            # The lab's own namespace is not a guest: nothing there answers on 3142 (the DNAT is for the bridge).
            refused = subprocess.run(lab.inside("curl", "-sS", "--max-time", "60", f"http://{vmlab.MASTER}:3142/"), capture_output=True)
            assert refused.returncode != 0
    finally:
        subprocess.run(["ip", "netns", "del", guest], capture_output=True)


def _shown(oci: vmlab.Master, serial: str) -> dict:
    return json.loads(oci.ocicli("--json", "machine-show", serial).stdout)


def _install_os(oci: vmlab.Master, serial: str) -> str | None:
    """machine-install-os once the live node answers over SSH with its certified host key (it asks for the
    certificate after its first report); None while it does not yet."""
    done = oci.ocicli("machine-install-os", serial, check=False)
    if done.returncode == 0:
        return done.stdout
    if "cannot reach" in done.stderr or "nothing answers" in done.stderr:
        return None
    raise AssertionError(f"machine-install-os {serial}: exit {done.returncode}\n{done.stdout}{done.stderr}")


CASES = {
    "one-disk": vmlab.Guest("VMINST1", "52:54:00:25:01:01", disks_gib=(10,)),
    "raid1": vmlab.Guest("VMINST2", "52:54:00:25:01:02", disks_gib=(10, 10)),
    "uefi": vmlab.Guest("VMINST3", "52:54:00:25:01:03", disks_gib=(10,), uefi=True),
}


@pytest.mark.slow
@pytest.mark.live_image
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_vm_installs_from_pxe_and_boots_its_own_disk(lab, tmp_path, case):
    if not os.environ.get("OCI_VM_INSTALL"):
        pytest.skip("an install under TCG takes tens of minutes: make vm-install-test runs it (OCI_VM_INSTALL=1)")
    if not all((LIVE / name).is_file() for name in ("vmlinuz", "initrd.img", "filesystem.squashfs")):
        pytest.fail(f"no live image in {LIVE}: make vm-install-test builds it")
    live_ca = LAB_STATE / "ssh" / ssh.LIVE
    if not (live_ca / "user_ca").is_file():
        pytest.fail(f"no live SSH CA in {live_ca}: make vm-install-test builds the image with it")
    guest = CASES[case]
    state = tmp_path / "state"
    shutil.copytree(live_ca, state / "ssh" / ssh.LIVE)  # the CA whose user key the image trusts

    # The master's Puppet server, in the lab: a CA of its own, whose server certificate names the address the
    # node reaches it at (checked by the node's agent).
    puppet = f"[puppet]\nconfdir = {tmp_path / 'puppet'}\nlisten = {vmlab.MASTER}:{PUPPET_PORT}\n"
    with (
        vmlab.package_cache(lab, tmp_path) as _,
        vmlab.master(lab, tmp_path, LIVE, "console=ttyS0,115200", puppet) as oci,
    ):
        subprocess.run([str(REPO / "bin" / "oci-pki"), "init"], env=oci.env, check=True, capture_output=True)
        for command in (("swift-region-create", "r1"), ("location-create", "loc1", "r1"),
                        ("network-create", "mgmt", "10.252.0.0", "24", "loc1", "no"),
                        ("network-set", "mgmt", "--first-ip", MGMT_FIRST, "--last-ip", MGMT_LAST),
                        ("cluster-create", "cl1", "example.com")):  # fmt: skip
            oci.ocicli(*command)
        with (
            puppetserver.running(Store.open(config.load(oci.env)), tmp_path, certname="puppet.lab", inside=lab.inside),
            vmlab.vm(lab, tmp_path, guest, LIVE_LIMIT + INSTALL_LIMIT + FIRST_BOOT_LIMIT + PUPPET_LIMIT) as machine,
        ):
            serial = guest.serial
            vmlab.wait_for(lambda: oci.status(serial) == "live", machine, LIVE_LIMIT, "live report")
            to_live = machine.elapsed()
            hardware = _shown(oci, serial)["hardware"]
            nic = next(n["name"] for n in hardware["nics"] if n["mac"] == guest.mac)
            disks = sorted(d["name"] for d in hardware["disks"])
            assert disks == ["vda", "vdb"][: len(guest.disks_gib)], disks
            oci.ocicli("network-add", "mgmt", "cl1", "all", nic)
            # A role whose catalog is oci::generic alone: what a 2 GiB guest under TCG applies in minutes.
            oci.ocicli("machine-add", serial, "cl1", ROLE, "loc1")
            # The VM's one serial port (servers have their BMC's on ttyS1): the installed system's boot is in
            # the console file too.
            oci.ocicli("machine-set", serial, "--serial-console-device", "ttyS0")
            if len(disks) == 2:
                raid = ("--install-on-raid", "yes", "--raid-type", "1", "--raid-dev0", "vda", "--raid-dev1", "vdb")
                oci.ocicli("machine-set", serial, *raid)
            fqdn = _shown(oci, serial)["enrolment"]["hostname"]
            plan = oci.ocicli("machine-install-os", "--dry-run", serial).stdout
            assert ("software RAID 1: /dev/md0 over vda3, vdb3" in plan) == (len(disks) == 2), plan
            assert ("grub for UEFI (and BIOS)" in plan) == guest.uefi, plan

            started = machine.elapsed()
            vmlab.wait_for(lambda: _install_os(oci, serial), machine, LIVE_LIMIT, "SSH to the live node")
            waited = oci.ocicli("machine-wait-for-install", serial, "--timeout", str(INSTALL_LIMIT + FIRST_BOOT_LIMIT),
                                check=False, timeout=INSTALL_LIMIT + FIRST_BOOT_LIMIT + 60)  # fmt: skip
            assert waited.returncode == 0, f"{waited.stdout}{waited.stderr}\nconsole:\n{machine.console_tail()}"
            to_installed = machine.elapsed()
            shown = _shown(oci, serial)
            assert shown["status"] == "installed"

            on_node = oci.lab.inside(sys.executable, "-c", ON_NODE, serial)
            env = {**oci.env, "PYTHONPATH": str(REPO / "lib")}
            # /proc/mdstat exists once the md driver is loaded, so only with RAID.
            answer = subprocess.run([*on_node, "sh", "-c", "hostname -f; findmnt -n -o SOURCE /; cat /proc/mdstat 2>/dev/null || true"],
                                    env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
            assert answer.returncode == 0, answer.stderr
            address, hostname, root, *mdstat = answer.stdout.splitlines()
            assert (address, hostname) == (MGMT_FIRST, fqdn)
            if len(disks) == 2:
                assert root == "/dev/md0"
                assert any(line.startswith("md0 : active raid1") for line in mdstat), mdstat
                assert any("[UU]" in line for line in mdstat), mdstat
            else:
                assert root == "/dev/vda3"
            mode = "test -d /sys/firmware/efi && echo uefi || echo bios"
            booted = subprocess.run([*on_node, "sh", "-c", mode], env=env, capture_output=True, text=True, timeout=300)
            # Each answer starts with the address ON_NODE reached, checked above.
            assert booted.stdout.splitlines()[1:] == ["uefi" if guest.uefi else "bios"], booted.stdout + booted.stderr

            # Its first boot started Puppet against the master's server: the run's verdict, then what it applied.
            waited = oci.ocicli("machine-wait-for-puppet", serial, "--timeout", str(PUPPET_LIMIT), check=False, timeout=PUPPET_LIMIT + 60)
            assert waited.returncode == 0, f"{waited.stdout}{waited.stderr}\nconsole:\n{machine.console_tail()}"
            to_puppet = machine.elapsed()
            run = _shown(oci, serial).get("puppet_run")
            # The server's report (its report processor to oci-api), not only the node's word.
            assert run is not None, f"no Puppet run report reached the master:\n{(tmp_path / 'puppetserver.log').read_text()[-3000:]}"
            assert (run["result"], run["failed"]) == ("success", 0), run
            script = "cat /etc/oci/role; systemctl is-active chrony; cat /etc/chrony/sources.d/oci.sources"
            applied = subprocess.run([*on_node, "sh", "-c", script], env=env, capture_output=True, text=True, timeout=300)
            role, chrony, source, *_ = [*applied.stdout.splitlines()[1:], "", "", ""]
            assert (role, chrony) == (ROLE, "active") and source.startswith("server "), applied.stdout + applied.stderr

    served = oci.requests()
    # The live image once; after the install, iPXE was sent to the disk and the VM never looped back.
    assert served.count("GET /boot/live/vmlinuz -> 200") == 1, served
    assert served.count(f"GET /boot/ipxe?mac={guest.mac.replace(':', '%3A')}&serial={serial} -> 200") == 2, served
    steps = {step["name"]: step.get("seconds") or 0 for step in (shown.get("install") or {}).get("steps") or []}
    each = ", ".join(f"{name} {seconds:.0f}" for name, seconds in steps.items())
    print(f"\n{case}: power-on to live {to_live:.0f} s; install steps {sum(steps.values()):.0f} s ({each}); "
          f"machine-install-os to installed {to_installed - started:.0f} s; power-on to installed {to_installed:.0f} s; "
          f"installed to puppet-success {to_puppet - to_installed:.0f} s (the run: {run['seconds']:.0f} s, "
          f"{run['changed']} changed); power-on to puppet-success {to_puppet:.0f} s")  # fmt: skip
