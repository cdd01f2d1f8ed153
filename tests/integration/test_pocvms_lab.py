"""oci-poc vms, the lab's plumbing with the real tools: the namespace set up and torn down (ip, nft), and a
VM's BMC (ipmi_sim with the rendered configuration and hook) powering a real qemu on and off over IPMI."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from oci.pocvms import machines, network, plan
from oci.run import CommandError

REPO = Path(__file__).resolve().parents[2]


def ip_json(*argv: str) -> list[dict]:
    return json.loads(subprocess.run(["ip", "-j", *argv], check=True, capture_output=True, text=True, timeout=30).stdout or "[]")


def free_link_net() -> IPv4Network:
    """A /30 no interface of this machine uses, apart from the PoC's own (a PoC may run beside the tests)."""
    taken = [IPv4Network(f"{a['local']}/{a['prefixlen']}", strict=False) for link in ip_json("-4", "addr") for a in link["addr_info"]]
    while True:
        candidate = IPv4Network((int(IPv4Address("10.254.254.0")) + 4 * (uuid.uuid4().int % 64), 30))
        if not any(candidate.overlaps(net) for net in taken):
            return candidate


def qemu_cmdline(pid: str) -> list[bytes]:
    """The argv of the hook's process once it became qemu: the hook starts it in the background and returns, so
    a moment may pass before the exec (a guard of a minute, never a figure)."""
    give_up = time.monotonic() + 60
    while True:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if argv[0].endswith(b"qemu-system-x86_64") or time.monotonic() > give_up:
            return argv
        time.sleep(0.05)


@pytest.fixture
def net():
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run make deps")
    tag = uuid.uuid4().hex[:6]
    names = network.Network(namespace=f"oci-pt-{tag}", host_link=f"vethopt{tag}", link_net=free_link_net())
    yield names
    network.down(names)


def test_up_builds_the_lab_and_down_leaves_nothing(net):
    lab = plan.plan(2)
    network.up(net, lab, cache_port=3142)
    inside = ("-n", net.namespace)
    links = {link["ifname"]: link for link in ip_json(*inside, "link")}
    assert {"vm1n0", "vm2n0", "vm2n1"} <= set(links)
    assert all(links[tap].get("master") == plan.BRIDGE and "UP" in links[tap]["flags"] for tap in ("vm1n0", "vm2n0", "vm2n1"))
    bridge = ip_json(*inside, "-4", "addr", "show", "dev", plan.BRIDGE)[0]
    assert {a["local"] for a in bridge["addr_info"]} == {"10.254.0.1", "10.254.1.1", "10.254.1.201", "10.254.1.202"}
    host = ip_json("-4", "addr", "show", "dev", net.host_link)[0]
    assert [a["local"] for a in host["addr_info"]] == [str(net.host_end)]
    rules = subprocess.run(net.inside("nft", "list", "ruleset"), check=True, capture_output=True, text=True).stdout
    assert f"ip daddr 10.254.0.1 tcp dport 3142 dnat to {net.host_end}:3142" in rules

    # Something left running in the lab (a VM, a daemon) is stopped by down.
    sleeper = subprocess.Popen(net.inside("sleep", "600"))
    give_up = time.monotonic() + 60  # until ip netns exec has entered the namespace: a guard, not a figure
    while not network.pids(net) and time.monotonic() < give_up:
        time.sleep(0.05)
    removed = network.down(net)
    assert sleeper.wait(timeout=30) != 0
    stopped = f"1 process(es) of namespace {net.namespace} stopped (0 killed)"
    # The host's end of the veth goes with the namespace, at once or a moment later (then down deletes it).
    assert removed[:2] == [stopped, f"namespace {net.namespace}"] and set(removed[2:]) <= {f"link {net.host_link}"}
    assert not network.exists(net)
    assert all(link["ifname"] != net.host_link for link in ip_json("link", "show"))
    assert network.down(net) == []  # again: nothing left, nothing to say


def test_a_failed_up_removes_what_it_made(net):
    vm = plan.plan(1).vms[0]
    with pytest.raises(CommandError):
        network.up(net, plan.Lab((vm, vm)), cache_port=3142)  # the second VM's address is the first's: refused
    assert not network.exists(net)
    assert all(link["ifname"] != net.host_link for link in ip_json("link", "show"))


def test_a_vms_bmc_powers_its_qemu_on_and_off_over_ipmi(net, tmp_path):
    """ipmi_sim with the rendered configuration and hook, in the lab's namespace: IPMI over the lab's network
    sets the boot device and starts, reports and stops a real qemu (idle in its firmware: nothing is booted)."""
    for tool in ("ipmi_sim", "ipmitool", "qemu-system-x86_64"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run make deps")
    lab = plan.plan(1, memory_mib=1024)
    vm = lab.vms[0]
    network.up(net, lab, cache_port=3142)
    folder = tmp_path / vm.name
    machines.prepare(vm, folder)
    machines.start_bmc(net, vm, folder)
    machines.wait_for_bmc(net, vm)
    assert machines.ipmitool(net, vm, "chassis", "power", "status").strip() == "Chassis Power is off"

    machines.ipmitool(net, vm, "chassis", "bootdev", "pxe")
    assert (folder / "boot").read_text().strip() == "pxe"
    machines.ipmitool(net, vm, "chassis", "power", "on")
    assert machines.power(folder) == "on"
    qemu = (folder / "qemu.pid").read_text().strip()
    cmdline = qemu_cmdline(qemu)
    assert b"type=1,manufacturer=QEMU,product=OCI PoC 1U,serial=C1" in cmdline
    assert b"e1000,netdev=n0,mac=52:54:00:0c:01:00,bootindex=1" in cmdline  # PXE first, as asked
    assert Path(f"/proc/{qemu}").stat().st_uid == 0
    assert machines.ipmitool(net, vm, "chassis", "power", "status").strip() == "Chassis Power is on"
    # The simulator's sockets are not qemu's: only the standard streams and qemu's own files are open there.
    assert not any("socket" in os.readlink(f"/proc/{qemu}/fd/{fd}") for fd in ("0", "1", "2"))

    machines.ipmitool(net, vm, "chassis", "power", "off")
    assert machines.power(folder) == "off"
    assert machines.ipmitool(net, vm, "chassis", "power", "status").strip() == "Chassis Power is off"
    machines.ipmitool(net, vm, "chassis", "bootdev", "disk")  # what OCI asks before an installed machine's reboot
    assert (folder / "boot").read_text().strip() == "default"
    machines.ipmitool(net, vm, "chassis", "power", "on")  # the simulator outlived its VM, and starts it again
    qemu = (folder / "qemu.pid").read_text().strip()
    assert b"virtio-blk-pci,drive=d0,bootindex=1" in qemu_cmdline(qemu)
    log = (folder / "bmc.log").read_text()
    assert [line.split(" ", 1)[1] for line in log.splitlines()] == [
        "set boot pxe", "set power 1", "set power 0", "set boot default", "set power 1"]  # fmt: skip


def fake_live_image(tmp_path: Path) -> Path:
    """Empty files where the run looks for the live image and its SSH CA (ca/ in it): the runs here never boot it."""
    live = tmp_path / "live"
    for path in (live / "vmlinuz", live / "initrd.img", live / "filesystem.squashfs", live / "ca" / "user_ca"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    return live


def poc_vms(folder: Path, live: Path, ca: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(REPO / "bin" / "oci-poc"), "vms", "--count", "1", "--memory", "1024", "--dir", str(folder),
            "--live-dir", str(live), "--live-ca", str(ca)]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_a_second_run_is_refused_in_one_line(tmp_path):
    """While a run holds the lab's lock, another one stops before touching anything."""
    if os.geteuid() != 0:
        pytest.skip("oci-poc vms runs as root")
    live, ca, folder = fake_live_image(tmp_path), tmp_path / "live" / "ca", tmp_path / "lab"
    folder.mkdir()
    (folder / ".oci-poc-vms").touch()  # a lab's folder: the running one's
    with (folder / "run.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write("4242\n")
        lock.flush()
        done = poc_vms(folder, live, ca)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "oci-poc vms: error: another oci-poc vms is running (pid 4242) (wait for it, or stop it with Ctrl-C)\n"
    assert sorted(p.name for p in folder.iterdir()) == [".oci-poc-vms", "run.lock"]

    # A folder that is not a lab's is never used (a teardown empties the lab's folder).
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine\n")
    done = poc_vms(other, live, ca)
    refusal = f"oci-poc vms: error: --dir {other}: not empty, and not an oci-poc vms folder (no .oci-poc-vms in it)\n"
    assert (done.returncode, done.stderr) == (1, refusal)
    assert [p.name for p in other.iterdir()] == ["notes.txt"]


def test_ctrl_c_tears_the_lab_down(tmp_path):
    """Interrupted once its network and package cache are up, a run leaves nothing: no namespace, no veth, no
    process, nothing in its folder but its marker and lock. In a namespace of its own, beside any real lab."""
    if os.geteuid() != 0:
        pytest.skip("oci-poc vms runs as root")
    live, ca, folder = fake_live_image(tmp_path), tmp_path / "live" / "ca", tmp_path / "lab"
    namespace = f"oci-pt-{uuid.uuid4().hex[:6]}"
    net = network.named(namespace)
    argv = [sys.executable, str(REPO / "bin" / "oci-poc"), "vms", "--count", "1", "--memory", "1024", "--dir", str(folder),
            "--live-dir", str(live), "--live-ca", str(ca), "--namespace", namespace]  # fmt: skip
    run = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert run.stdout is not None
        seen = []
        for line in run.stdout:  # the run's own progress: interrupted once the master's set-up begins
            seen.append(line)
            if line.startswith("=== the master in the lab"):
                break
        assert network.exists(net), "".join(seen)
        cache = int((folder / "apt-cacher-ng.pid").read_text())
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
        network.down(net)
    assert run.returncode == 130, err
    assert not network.exists(net)
    assert all(link["ifname"] != net.host_link for link in ip_json("link", "show"))
    assert not network.alive(cache)
    assert sorted(p.name for p in folder.iterdir()) == [".oci-poc-vms", "run.lock"]
