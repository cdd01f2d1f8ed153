"""A lab for tests that boot virtual machines: a network namespace with a bridge and taps, where our rendered
isc-dhcp-server configuration and oci-api serve as a master would, qemu VMs (TCG) plugged into it, and a
Debian package cache the VMs reach at the master's address.

    with network(taps=1) as lab, master(lab, workdir, live_dir, "console=ttyS0") as oci:
        with vm(lab, workdir, Guest("VM1", "52:54:00:25:00:01"), limit=900) as machine:
            wait_for(lambda: oci.status("VM1") == "live", machine, 600, "the live report")

The namespace is the master's side of a provisioning network (10.252.0.1/24 on its bridge ``br0``, DHCP on
the upper half); it has no route to the internet. ``package_cache`` adds one way out, for apt only: a veth
pair to the host, where apt-cacher-ng listens on the host end and fetches from Debian's mirror, and a DNAT
in the namespace so that ``10.252.0.1:3142`` (the master's package cache, as installs expect it) reaches it.
Only the namespace's own tables change; the host's firewall and routes are left alone.

No pytest here (tests/integration/test_pxe_vm.py and test_install_vm.py put fixtures over it).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import TypeVar

import pkgcache
from conftest import REPO, stop_daemon
from oci.pocvms import render

SUBNET = IPv4Network("10.252.0.0/24")
MASTER = IPv4Address("10.252.0.1")
API_PORT = 8000  # the namespace is ours alone: any port is free there
CACHE_PORT = 3142  # apt-cacher-ng's usual port, where installs look for the master's package cache
# Kept across runs, so only the first run on a machine fetches from Debian's mirror. Apart from
# tests/pkgcache.py's folder: two apt-cacher-ng daemons must not write one cache at once.
CACHE_DIR = Path(os.environ.get("OCI_TEST_CACHE", "/var/cache/oci-tests")) / "apt-cacher-ng-vm"
GUARD = 60.0  # seconds: only stops a daemon that never comes up, never a figure
TOOLS = ("qemu-system-x86_64", "dhcpd", "nft", "apt-cacher-ng", "timeout")

T = TypeVar("T")


def sh(*argv: str, timeout: float = 120) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=timeout).stdout


def missing_tools() -> list[str]:
    """What the lab needs and this machine lacks (make deps installs them)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not Path("/usr/lib/ipxe/qemu/efi-e1000.rom").exists():
        missing.append("qemu's iPXE ROMs (ipxe-qemu)")
    if not render.OVMF_CODE.exists():
        missing.append("OVMF (ovmf)")
    return missing


@dataclass(frozen=True)
class Lab:
    ns: str
    taps: tuple[str, ...]

    def inside(self, *argv: str) -> list[str]:
        """``argv`` run in the lab's namespace (where the VMs' network is)."""
        return ["ip", "netns", "exec", self.ns, *argv]


@contextlib.contextmanager
def network(taps: int = 1) -> Iterator[Lab]:
    """A fresh namespace with the bridge ``br0`` (``MASTER``/24) and ``taps`` taps on it; deleted at the end
    (with everything in it: taps, veth ends, nftables)."""
    ns = f"oci-lab-{uuid.uuid4().hex[:6]}"
    sh("ip", "netns", "add", ns)
    try:
        names = tuple(f"tap{i}" for i in range(taps))
        sh("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", ns, "addr", "add", f"{MASTER}/{SUBNET.prefixlen}", "dev", "br0")
        for tap in names:
            sh("ip", "-n", ns, "tuntap", "add", tap, "mode", "tap")
            sh("ip", "-n", ns, "link", "set", tap, "master", "br0")
        for link in ("lo", "br0", *names):
            sh("ip", "-n", ns, "link", "set", link, "up")
        yield Lab(ns, names)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _free_link_net() -> IPv4Network:
    """A /30 for the veth pair that no host interface uses (a random pick in 10.253.0.0/16, checked)."""
    used = [line.split()[3] for line in sh("ip", "-4", "-o", "addr", "show").splitlines()]
    taken = [IPv4Network(address, strict=False) for address in used]
    while True:
        candidate = IPv4Network((int(IPv4Address("10.253.0.0")) + 4 * (uuid.uuid4().int % 16384), 30))
        if not any(candidate.overlaps(net) for net in taken):
            return candidate


@contextlib.contextmanager
def package_cache(lab: Lab, workdir: Path, cache_dir: Path = CACHE_DIR) -> Iterator[str]:
    """apt-cacher-ng on the host, answering the lab's guests at ``MASTER:CACHE_PORT``; yields the Debian
    mirror URL as the guests use it (apt-cacher-ng's "host in the path" form). Stopped at the end."""
    link = _free_link_net()
    host_end, lab_end = (str(a) for a in link.hosts())
    # "veth" first: the discovery agent skips such names, so a suite running beside the lab (test_agent_e2e
    # compares an agent's report with this machine's NICs) does not see this end as a port of the machine.
    host_link, lab_link = f"vethoci{lab.ns[-6:]}", "cache0"
    sh("ip", "link", "add", host_link, "type", "veth", "peer", "name", lab_link, "netns", lab.ns)
    try:
        sh("ip", "addr", "add", f"{host_end}/30", "dev", host_link)
        sh("ip", "link", "set", host_link, "up")
        sh("ip", "-n", lab.ns, "addr", "add", f"{lab_end}/30", "dev", lab_link)
        sh("ip", "-n", lab.ns, "link", "set", lab_link, "up")
        sh(*lab.inside("sysctl", "-q", "-w", "net.ipv4.ip_forward=1"))
        with pkgcache.running(workdir, cache_dir, address=host_end) as port:
            # Guests ask the master's address; the namespace forwards to the host end and masquerades, so the
            # host needs no route back to the lab's subnet.
            rules = (
                "table ip oci_lab {\n"
                "  chain prerouting { type nat hook prerouting priority dstnat;\n"
                f"    ip daddr {MASTER} tcp dport {CACHE_PORT} dnat to {host_end}:{port}\n  }}\n"
                "  chain postrouting { type nat hook postrouting priority srcnat;\n"
                f'    oifname "{lab_link}" masquerade\n  }}\n'
                "}\n"
            )
            subprocess.run(lab.inside("nft", "-f", "-"), input=rules, text=True, check=True, capture_output=True)
            yield f"http://{MASTER}:{CACHE_PORT}/deb.debian.org/debian"
    finally:
        subprocess.run(["ip", "link", "del", host_link], capture_output=True)


@dataclass(frozen=True)
class Master:
    """The master's services in the lab: the state and configuration ``ocicli`` and ``oci-api`` share."""

    lab: Lab
    env: dict[str, str]
    api_log: Path

    @property
    def url(self) -> str:
        return f"http://{MASTER}:{API_PORT}"

    def ocicli(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``ocicli`` in local mode, in the namespace (where SSH reaches the VMs)."""
        argv = self.lab.inside(str(REPO / "bin" / "ocicli"), *args)
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"ocicli {' '.join(args)}: exit {done.returncode}\n{done.stdout}{done.stderr}")
        return done

    def machines(self) -> list[dict[str, str]]:
        done = self.ocicli("--json", "machine-list", check=False)
        return json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else []

    def status(self, serial: str) -> str | None:
        return next((m["status"] for m in self.machines() if m["serial"] == serial), None)

    def requests(self) -> str:
        """The API's log: one line per request (``GET /boot/ipxe -> 200``)."""
        return self.api_log.read_text(errors="replace")


@contextlib.contextmanager
def master(lab: Lab, workdir: Path, live_dir: Path, kernel_args: str, config: str = "") -> Iterator[Master]:
    """Our rendered dhcpd and ``oci-api`` serving the live image in ``live_dir``, in the lab; ``config`` is
    more of the configuration file (whole sections). Both stopped at the end."""
    conf = workdir / "oci.conf"
    conf.write_text(
        f"[api]\nlisten = {MASTER}:{API_PORT}\n[network]\nprovisioning_network = {SUBNET}\noci_ip = {MASTER}\n"
        f"[boot]\nlive_dir = {live_dir}\nkernel_args = {kernel_args}\n{config}"
    )
    env = {**os.environ, "OCI_CONFIG": str(conf), "OCI_STATE_DIR": str(workdir / "state")}
    target = workdir / "root"
    subprocess.run([str(REPO / "bin" / "oci-boot-render"), "--check", "--target", str(target)], env=env, check=True, capture_output=True)
    (workdir / "leases").touch()
    api_log = workdir / "api.log"
    procs = []
    try:
        dhcpd = ["dhcpd", "-f", "-4", "-cf", str(target / "etc/dhcp/dhcpd.conf"), "-lf", str(workdir / "leases"),
                 "-pf", str(workdir / "dhcpd.pid"), "br0"]  # fmt: skip
        procs.append(subprocess.Popen(lab.inside(*dhcpd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with api_log.open("w") as log:  # --debug: one log line per request
            procs.append(subprocess.Popen(lab.inside(str(REPO / "bin" / "oci-api"), "--debug"), env=env, stdout=log, stderr=log))
        yield Master(lab, env, api_log)
    finally:
        for proc in reversed(procs):
            stop_daemon(proc, GUARD)


@dataclass(frozen=True)
class Guest:
    """A VM's hardware: SMBIOS serial, the MAC of its one NIC, its disks (sizes in GiB, sparse files), and
    its firmware (SeaBIOS, or OVMF for UEFI)."""

    serial: str
    mac: str
    disks_gib: tuple[int, ...] = ()
    uefi: bool = False
    memory_mib: int = 2048
    cpus: int = 2


@dataclass
class Vm:
    guest: Guest
    proc: subprocess.Popen[bytes]
    console: Path
    started: float  # time.monotonic() at power-on

    def alive(self) -> bool:
        return self.proc.poll() is None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def console_tail(self, size: int = 4000) -> str:
        return self.console.read_text(errors="replace")[-size:] if self.console.exists() else ""


@contextlib.contextmanager
def vm(lab: Lab, workdir: Path, guest: Guest, limit: float, tap: str = "tap0") -> Iterator[Vm]:
    """``guest`` powered on, plugged into ``tap``; ``timeout`` kills it after ``limit`` seconds whatever
    happens, and it is killed at the end in any case. Its serial console goes to ``<serial>-console.log``."""
    console = workdir / f"{guest.serial}-console.log"
    disks = []
    for index, size in enumerate(guest.disks_gib):
        disk = workdir / f"{guest.serial}-disk{index}.raw"
        with disk.open("wb") as f:
            f.truncate(size << 30)
        disks.append(disk)
    nvram = None
    if guest.uefi:
        nvram = workdir / f"{guest.serial}-vars.fd"  # the VM's own NVRAM
        shutil.copy(render.OVMF_VARS, nvram)
    # Network first, then the disks: without -no-reboot an install's reboot comes back through PXE, where
    # /boot/ipxe sends an installed machine to its disk.
    machine = render.Machine(guest.serial, "", (guest.mac,), (tap,), tuple(disks), console, guest.memory_mib, guest.cpus, nvram)
    argv = ["timeout", "--kill-after=10", str(int(limit)), *render.qemu_argv(machine, network_first=True)]
    with (workdir / f"{guest.serial}-qemu.err").open("w") as errors:
        started = time.monotonic()
        proc = subprocess.Popen(lab.inside(*argv), stdout=subprocess.DEVNULL, stderr=errors)
    try:
        yield Vm(guest, proc, console, started)
    finally:
        stop_daemon(proc, GUARD)
        for disk in disks:
            disk.unlink(missing_ok=True)


def wait_for(condition: Callable[[], T | None], machine: Vm, limit: float, what: str, every: float = 2) -> T:
    """Ask ``condition`` every ``every`` seconds until it gives a value (returned); AssertionError with the
    console's end if the VM stops first or ``limit`` seconds pass (a guard: it is never a figure)."""
    give_up = time.monotonic() + limit
    while True:
        value = condition()
        if value:
            return value
        if not machine.alive() or time.monotonic() > give_up:
            state = "stopped" if not machine.alive() else f"still running after {limit:.0f} s"
            raise AssertionError(f"no {what}: the VM {state} ({machine.elapsed():.0f} s); console:\n{machine.console_tail()}")
        time.sleep(every)  # polling the master's state, not synchronising: the VM runs on its own
