"""``oci-poc vms``: the talk, played on qemu VMs behind simulated BMCs (docs/poc.md).

1. the lab: a network namespace with the provisioning bridge and a tap per VM NIC (``network``); apt-cacher-ng on
   the host, reached at the master's address; in the namespace, the master's side: our rendered dhcpd, TFTP,
   ``oci-api``, the Puppet server with our ENC; each VM's disks and its BMC (``ipmi_sim`` with the rendered
   configuration and chassis-control hook);
2. each VM powered on through its BMC over IPMI (boot device PXE), as an operator's first power-on;
3. as VMs report from the live image: ``machine-add`` with a role that fits a small VM (RAID 1 on two disks),
   their BMCs numbered by the agent from the cluster's ``ipmi`` network;
4. ``ocicli cluster-install``: installs, reboots to disk, first boot, first Puppet run;
5. a live table while it runs, a summary at the end; then everything torn down unless ``--keep``.

A VM that fails (no report, an install or Puppet failure, its qemu gone) is reported with the end of its console
and the run goes on with the others. One run at a time (a lock); ``--down`` removes a lab ``--keep`` left up.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from oci import config as config_mod
from oci import remote
from oci.cli.edge import Parser, edge
from oci.errors import InvalidInput, InvalidState, OciError
from oci.model import BmcAccess, Machine
from oci.pocvms import machines, master, network, plan, progress
from oci.run import run, spawn, stop
from oci.store import Store

REPO = Path(__file__).resolve().parents[3]
LAB_DIR = Path("/var/lib/oci-poc/vms")  # root's: the VMs' disks (sparse, 10 GiB each), the master's state, logs
LIVE_DIR = REPO / "dist" / "live"
# The live SSH CA the image was built with (make poc-vms builds it as make vm-install-test does).
LIVE_CA = REPO / "build" / "vm-lab" / "state" / "ssh" / "live"
MARKER = ".oci-poc-vms"  # in the lab's folder: a teardown empties only a folder that has it
PACKAGE_CACHE_DIR = Path("/var/cache/oci-poc/apt-cacher-ng-vms")  # kept: the next run's installs are warm
API_PORT, PUPPET_PORT = 8000, 8140
REGION, LOCATION, CLUSTER, DOMAIN = "r1", "loc1", "poc", "poc.example"
POLL = 5.0  # seconds between two looks at the master's state and the BMCs
# Guards, never figures: a VM that has not reached the next point by then is reported failed.
LIVE_LIMIT = 1800.0  # power-on to its first report
VM_LIMIT = 4 * 3600.0  # power-on to its first Puppet run's success (an install is about an hour under TCG)
OFF_LIMIT = 60.0  # its qemu not running (a power cycle through the BMC takes a second)
BMC_LIMIT = 600.0  # enrolment to its BMC's numbering confirmed by the next report (a minute or two)
TOOLS = ("qemu-system-x86_64", "ipmi_sim", "ipmitool", "dhcpd", "dnsmasq", "apt-cacher-ng", "nft", "java", "curl")


@dataclass
class Tracked:
    """One VM during the run."""

    vm: plan.Vm
    folder: Path
    powered_on: datetime | None = None
    started: float = 0.0  # time.monotonic() at power-on
    enrolled: bool = False
    enrolled_at: float = 0.0  # time.monotonic()
    forwarded_bmc: str | None = None  # the numbered address the master reaches its BMC at
    off_since: float | None = None  # time.monotonic() when its qemu was first seen not running
    failed: str | None = None
    done: bool = False


@dataclass
class Run:
    lab: plan.Lab
    net: network.Network
    folder: Path
    env: dict[str, str]
    store: Store
    puppet: subprocess.Popen[bytes]
    puppet_ready: bool = False
    vms: list[Tracked] = field(default_factory=list)
    out: IO[str] = sys.stdout

    def ocicli(self, *args: str, timeout: float = 600) -> str:
        """ocicli in local mode, in the namespace (where SSH reaches the VMs)."""
        return run(self.net.inside(str(REPO / "bin" / "ocicli"), *args), env=self.env, timeout=timeout).stdout

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


@edge("oci-poc vms")
def main(argv: list[str] | None = None) -> int:
    memory = _memory_mib()
    parser = Parser(prog="oci-poc vms", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=plan.default_count(memory, os.cpu_count() or 1),
                        help="how many VMs (default: what this machine's memory and cores hold)")  # fmt: skip
    parser.add_argument("--roles", default=",".join(plan.SMALL_ROLES), help="roles given in turn (default: %(default)s)")
    parser.add_argument("--memory", type=int, default=plan.VM_MEMORY_MIB, help="MiB per VM (default: %(default)s)")
    parser.add_argument("--live-dir", type=Path, default=LIVE_DIR, help="the live image (default: %(default)s)")
    parser.add_argument("--live-ca", type=Path, default=LIVE_CA, help="the live SSH CA the image trusts (default: %(default)s)")
    parser.add_argument("--dir", type=Path, default=LAB_DIR, help="the lab's files (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="leave everything up at the end, and say how to reach each VM")
    parser.add_argument("--down", action="store_true", help="tear down a lab left up, and exit")
    parser.add_argument("--namespace", default=plan.NAMESPACE, help="the lab's network namespace (default: %(default)s; "
                        "another name runs a second lab beside it, with --dir of its own)")  # fmt: skip
    args = parser.parse_args(argv)
    net = network.named(args.namespace)
    if args.down:
        return _down(net, args.dir)
    lab = plan.plan(args.count, tuple(r for r in args.roles.split(",") if r), args.memory)
    _preflight(args, lab, memory)
    state = master.guarded_run(args.dir, net, "oci-poc vms", MARKER, lambda: _play(args, lab, net), lambda: _teardown(net, args.dir),
                               args.keep)  # fmt: skip
    if args.keep:
        _print_access(state)
    return 0 if all(t.done for t in state.vms) else 1


def _memory_mib() -> int:
    """MemAvailable: what the VMs can take now, other work included."""
    for text in Path("/proc/meminfo").read_text().splitlines():
        if text.startswith("MemAvailable:"):
            return int(text.split()[1]) // 1024
    return 0


def _preflight(args: argparse.Namespace, lab: plan.Lab, memory: int) -> None:
    if os.geteuid() != 0:
        raise InvalidState("oci-poc vms needs root (network namespaces, taps)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise InvalidState(f"missing tools: {', '.join(missing)}", hint="make deps installs them")
    for name in ("vmlinuz", "initrd.img", "filesystem.squashfs"):
        if not (args.live_dir / name).is_file():
            raise InvalidState(f"no live image in {args.live_dir} ({name})", hint="make poc-vms builds it")
    if not (args.live_ca / "user_ca").is_file():
        raise InvalidState(f"no live SSH CA in {args.live_ca}", hint="make poc-vms builds the image with it")
    if lab.memory_mib > memory:
        raise InvalidInput(f"{len(lab.vms)} VMs of {lab.vms[0].memory_mib} MiB need {lab.memory_mib} MiB with the master's side; "
                           f"{memory} MiB are available", hint="fewer VMs (--count)")  # fmt: skip


def _down(net: network.Network, folder: Path) -> int:
    with master.exclusive(folder, "oci-poc vms") if folder.is_dir() else contextlib.nullcontext():
        removed = _teardown(net, folder)
    print("\n".join(f"removed: {what}" for what in removed) if removed else "nothing to tear down")
    return 0


def _teardown(net: network.Network, folder: Path) -> list[str]:
    """Everything of a lab: its processes and namespace, the package cache on the host, the VMs' disks."""
    return master.teardown(net, folder, MARKER)


def _play(args: argparse.Namespace, lab: plan.Lab, net: network.Network) -> Run:
    """The run from a bare machine to every VM's Puppet success, or to its end with failures (``Tracked.failed``)."""
    total = time.monotonic()
    folder: Path = args.dir
    for child in master.ours(folder, MARKER):  # a previous run's files (its --down or teardown removed its processes)
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    started = _step(f"the lab's network: namespace {net.namespace}, bridge {plan.BRIDGE} ({plan.MASTER}), {len(lab.taps)} taps")
    cache_port = 3142
    network.up(net, lab, cache_port)
    _done(started)

    # Another lab's cache is in its folder, gone with it: two apt-cacher-ng must not write one cache at once.
    cache_dir = PACKAGE_CACHE_DIR if net.namespace == plan.NAMESPACE else folder / "package-cache"
    started = _step(f"the package cache: apt-cacher-ng on {net.host_end}:{cache_port}, cache in {cache_dir}")
    master.start_package_cache(folder, str(net.host_end), cache_port, cache_dir)
    _done(started)

    started = _step(f"the master in the lab: oci-api on {plan.MASTER}:{API_PORT}, dhcpd, TFTP, the PKI, the Puppet server")
    boot = master.Boot(args.live_dir, args.live_ca)
    env, puppet = master.start(folder, net, master.Site(DOMAIN, API_PORT, PUPPET_PORT), boot)
    store = Store.open(config_mod.load(env))
    _done(started)
    state = Run(lab, net, folder, env, store, puppet)

    started = _step("networks and cluster, as an operator makes them")
    for command in (
        ("swift-region-create", REGION),
        ("location-create", LOCATION, REGION),
        ("network-create", "mgmt", str(plan.PROVISIONING.network_address), str(plan.PROVISIONING.prefixlen), LOCATION, "no"),
        ("network-set", "mgmt", "--first-ip", str(plan.MANAGEMENT_FIRST), "--last-ip", str(plan.MANAGEMENT_LAST)),
        ("network-create", "bmc", str(plan.BMC_NETWORK.network_address), str(plan.BMC_NETWORK.prefixlen), LOCATION, "no"),
        ("network-set", "bmc", "--role", "ipmi", "--ipmi-match", str(plan.PROVISIONING), "--first-ip", str(plan.BMC_FIRST),
         "--last-ip", str(plan.BMC_LAST)),
        ("cluster-create", CLUSTER, DOMAIN),
    ):  # fmt: skip
        print(f"  ocicli {' '.join(command)}")
        state.ocicli(*command)
    _done(started)

    started = _step(f"{len(lab.vms)} VMs and their BMCs (ipmi_sim), powered on over IPMI with boot device PXE")
    for vm in lab.vms:
        state.vms.append(_bmc_and_vm(state, vm))
    for tracked in state.vms:
        _power_on(state, tracked)
        vm = tracked.vm
        print(f"  {vm.name}: {vm.serial} {vm.hardware.product}, role {vm.role}, BMC {vm.bmc_listen}")
    _done(started)

    started = _step("the talk: live image, reports, machine-add, BMC numbering, cluster-install, install, Puppet")
    _watch(state)
    _done(started)

    timelines = [
        progress.Timeline(t.vm.name, t.vm.serial, t.powered_on or datetime.now(UTC),
                          tuple((c.status, c.at) for c in m.history) if (m := store.find(Machine, t.vm.serial)) else (), t.failed)
        for t in state.vms
    ]  # fmt: skip
    print("\n" + progress.summary(timelines) + f"in all: {time.monotonic() - total:.0f} s")
    return state


def _step(title: str) -> float:
    print(f"\n=== {title}", flush=True)
    return time.monotonic()


def _done(started: float) -> None:
    print(f"=== done in {time.monotonic() - started:.1f} s", flush=True)


def _puppet_server_ready(state: Run) -> bool:
    """The first boots need it: cluster-install starts once it answers. A server that died ends the run."""
    if state.puppet_ready:
        return True
    if state.puppet.poll() is not None:
        raise InvalidState(f"the Puppet server exited (code {state.puppet.returncode}); see {state.folder / 'logs' / 'puppetserver.log'}")
    state.puppet_ready = master.puppet_server_answers(state.folder, state.net, master.Site(DOMAIN, API_PORT, PUPPET_PORT))
    return state.puppet_ready


def _bmc_and_vm(state: Run, vm: plan.Vm) -> Tracked:
    """The VM's folder and its BMC, started; the VM stays off."""
    folder = state.folder / vm.name
    machines.prepare(vm, folder)
    machines.start_bmc(state.net, vm, folder)
    return Tracked(vm, folder)


def _power_on(state: Run, tracked: Tracked) -> None:
    machines.wait_for_bmc(state.net, tracked.vm)
    machines.ipmitool(state.net, tracked.vm, "chassis", "bootdev", "pxe")
    machines.ipmitool(state.net, tracked.vm, "chassis", "power", "on")
    tracked.powered_on, tracked.started = datetime.now(UTC), time.monotonic()


def _watch(state: Run) -> None:
    """Until every VM is done or failed: enrol what reports, forward numbered BMCs, start cluster-install once
    every VM is enrolled or out, and show the table."""
    terminal = state.out.isatty()
    drawn, last = 0, dict[str, tuple[str, str, str | None, str | None]]()
    installer: subprocess.Popen[bytes] | None = None
    while True:
        now = datetime.now(UTC)
        rows = []
        for tracked in state.vms:
            machine = state.store.find(Machine, tracked.vm.serial)
            access = state.store.find(BmcAccess, tracked.vm.serial)
            if not tracked.failed and not tracked.done:
                _advance(state, tracked, machine, access, installer is not None)
            bmc = tracked.forwarded_bmc or str(tracked.vm.bmc_listen)
            power = machines.power(tracked.folder)
            rows.append(progress.observe(tracked.vm.name, tracked.vm.serial, machine, bmc, power, tracked.powered_on, now, tracked.failed))
        # As in the talk: every BMC numbered before the installs (OCI then sets each one to boot the disk), unless
        # a numbering does not come: then the install goes on without it (iPXE sends an installed machine to its disk).
        enrolled = all(t.failed or (t.enrolled and (t.forwarded_bmc or time.monotonic() - t.enrolled_at > BMC_LIMIT)) for t in state.vms)
        enrolled = enrolled and any(t.enrolled for t in state.vms)
        if installer is None and enrolled and _puppet_server_ready(state):
            log = state.folder / "logs" / "cluster-install.log"
            installer = spawn(state.net.inside(str(REPO / "bin" / "ocicli"), "cluster-install", CLUSTER, "--timeout", str(int(VM_LIMIT))),
                              env=state.env, log=log)  # fmt: skip
            state.say(f"  ocicli cluster-install {CLUSTER} (its output: {log})")
        if terminal:
            text = progress.table(rows, "" if installer else "cluster-install: waiting for " + (
                "the Puppet server" if enrolled else "every VM's enrolment and BMC numbering"))  # fmt: skip
            state.out.write(progress.redraw(drawn, text))
            drawn = text.count("\n")
        else:
            for row in progress.changed(last, rows):
                state.say(progress.line(row))
                if row.failed:
                    tail = _console_tail(state.folder / row.vm / "console.log")
                    state.say("".join(f"    | {line}\n" for line in tail).rstrip("\n"))
        last = {row.vm: row.key() for row in rows}
        state.out.flush()
        if all(t.done or t.failed for t in state.vms):
            break
        time.sleep(POLL)  # the VMs run on their own: this only paces the looks at them
    if installer is not None:
        stop(installer)
    if terminal:
        for tracked in state.vms:
            if tracked.failed:
                state.say(f"{tracked.vm.name} ({tracked.vm.serial}) failed: {tracked.failed}; its console ended with:")
                state.say("".join(f"    | {line}\n" for line in _console_tail(tracked.folder / "console.log")).rstrip("\n"))


def _advance(state: Run, tracked: Tracked, machine: Machine | None, access: BmcAccess | None, installing: bool) -> None:
    """What the run does for one VM at one look: enrol it, forward its numbered BMC, or see it done or failed."""
    vm, age = tracked.vm, time.monotonic() - tracked.started
    # A guest's reboot stays in its qemu; a power cycle through the BMC is off for a moment: off for long, it died.
    if machines.power(tracked.folder) == "on":
        tracked.off_since = None
    elif tracked.off_since is None:
        tracked.off_since = time.monotonic()
    elif time.monotonic() - tracked.off_since > OFF_LIMIT:
        tracked.failed = f"its qemu has not run for {OFF_LIMIT:.0f} s (see {tracked.folder / 'qemu.err'})"
        return
    if machine is None:
        if age > LIVE_LIMIT:
            tracked.failed = f"no report from the live image after {LIVE_LIMIT:.0f} s"
        return
    if age > VM_LIMIT:
        tracked.failed = f"not done after {VM_LIMIT:.0f} s"
        return
    if machine.status.value == "live" and not tracked.enrolled:
        try:
            _enrol(state, tracked, machine)
        except OciError as exc:
            tracked.failed = f"enrolment: {exc.message.splitlines()[0]}"
        return
    if access is not None and access.address and not access.pending and tracked.forwarded_bmc != access.address:
        try:
            network.forward_bmc(state.net, access.address, vm.bmc_listen)
        except OciError as exc:
            tracked.failed = f"its BMC's new address {access.address}: {exc.message.splitlines()[0]}"
            return
        tracked.forwarded_bmc = access.address
    if machine.install is not None and machine.install.failed:
        tracked.failed = f"install failed at {machine.install.failed_step}: {machine.install.error}"
    elif machine.puppet_status.value == "failure":
        run_ = machine.puppet_run
        tracked.failed = f"Puppet failed: {run_.error if run_ and run_.error else 'see its /var/log/oci-puppet-run-*.log'}"
    elif machine.status.value == "installed" and machine.puppet_status.value == "success":
        tracked.done = True
    elif installing and machine.status.value == "live" and machine.install is None and age > VM_LIMIT / 2:
        tracked.failed = "cluster-install did not start its install (an earlier stage failed?)"


def _enrol(state: Run, tracked: Tracked, machine: Machine) -> None:
    vm = tracked.vm
    nic = next((n.name for n in machine.hardware.nics if n.mac == vm.macs[0]), None)
    if nic is None:
        raise InvalidState(f"its report has no NIC with MAC {vm.macs[0]}")
    if not any(t.enrolled for t in state.vms):
        state.ocicli("network-add", "mgmt", CLUSTER, "all", nic)
    state.ocicli("machine-add", vm.serial, CLUSTER, vm.role, LOCATION)
    # The VM's one serial port is its console (a server's BMC has it on ttyS1).
    state.ocicli("machine-set", vm.serial, "--serial-console-device", "ttyS0")
    if len(vm.hardware.disks_gib) == 2:
        state.ocicli("machine-set", vm.serial, "--install-on-raid", "yes", "--raid-type", "1", "--raid-dev0", "vda", "--raid-dev1", "vdb")
    tracked.enrolled, tracked.enrolled_at = True, time.monotonic()


def _console_tail(path: Path, lines: int = 12) -> list[str]:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ["(no console output)"]
    return [line.rstrip("\r") for line in text.splitlines()[-lines:]]


def _print_access(state: Run) -> None:
    """--keep: where each VM's console is, its BMC, and an SSH login to each installed VM (an ssh_config with a
    user certificate valid a day, from the cluster's CA, as the master's own logins)."""
    folder, ns = state.folder, state.net.namespace
    blocks = []
    for tracked in state.vms:
        machine = state.store.find(Machine, tracked.vm.serial)
        if machine is not None and machine.status.value == "installed":
            blocks.append(remote.login_config(state.store, tracked.vm.serial, tracked.vm.name, folder / "ssh" / tracked.vm.name))
    config = folder / "ssh" / "config"
    if blocks:
        config.write_text("\n".join(blocks))
    print(f"\nThe lab is up (--keep): namespace {ns}, files in {folder}; oci-poc vms --down tears it down.")
    environment = f"OCI_CONFIG={folder / 'oci.conf'} OCI_STATE_DIR={folder / 'state'}"
    print(f"  ocicli:  ip netns exec {ns} env {environment} {REPO / 'bin' / 'ocicli'} machine-list")
    for tracked in state.vms:
        vm = tracked.vm
        print(f"  {vm.name} ({vm.serial}): console: tail -f {tracked.folder / 'console.log'}")
        print(f"      BMC: ip netns exec {ns} {shlex.join(machines.ipmitool_argv(vm, 'chassis', 'power', 'status'))}")
        if blocks and f"Host {vm.name}\n" in config.read_text():
            print(f"      SSH: ip netns exec {ns} ssh -F {config} {vm.name}")
