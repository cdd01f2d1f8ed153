"""``oci-poc cloud`` (``make poc-cloud``): OCI deploys a small OpenStack cloud, which then answers (docs/cloud.md).

1. the lab: the PoC's network in a namespace of its own (``oci-cloud``), the public network beside the management
   one on its bridge; apt-cacher-ng on the host; in the namespace, the master: ``oci-api``, the PKI, the Puppet
   server with our ENC;
2. the cluster, as an operator describes it with ``ocicli``: networks, a cluster with Linux bridges and qemu
   (no Open vSwitch module, no KVM here), one controller and one compute enrolled from their reports;
3. each node a container (lib/oci/cloudlab/containers.py): the base tree, its install bundle written in, booted;
   it reports ``installed``, and its first Puppet run, from the master's Puppet server, deploys OpenStack. The
   controller first, alone, until its run succeeds (as ``cluster-install`` orders it); then the compute;
4. the checks (lib/oci/cloudlab/checks.py), with the ``openstack`` client from the master: each with its time;
5. a summary; everything torn down unless ``--keep`` (the base tree and the package cache stay for the next run).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path

from oci import config as config_mod
from oci import templates, vips
from oci.cli.edge import Parser, edge
from oci.cloudlab import checks, containers, image, plan
from oci.discover.report import Captures, build
from oci.errors import InvalidState
from oci.model import Cluster, ClusterSecrets, Machine
from oci.pocvms import master, network
from oci.pocvms import plan as poc_plan
from oci.report import v1
from oci.run import run
from oci.service import clusters, install, reports
from oci.store import Store
from oci.store.files import atomic_write

REPO = Path(__file__).resolve().parents[3]
LAB_DIR = REPO / "build" / "cloud-lab"
MARKER = ".oci-poc-cloud"
KEPT = ("base", "package-cache")  # what a teardown leaves for the next run: the base tree, the packages fetched
CAPTURE = REPO / "tests" / "data" / "hw" / "qemu-standard-pc"  # the hardware each node reports: a qemu VM's
CAPTURED_NIC, CAPTURED_MAC = "ens3", "52:54:00:07:9e:d3"
CAPTURED_DISK, LAB_DISK = '"size": "6G"', '"size": "20G"'  # the install plan wants 8 GiB, which a container never uses
TOOLS = ("systemd-nspawn", "debootstrap", "apt-cacher-ng", "nft", "java", "curl", "openstack", "nsenter", "swift-ring-builder")
POLL = 10.0  # seconds between two looks at a node's status
# Guards, never figures: a node that has not reached the next point by then has failed.
BOOT_LIMIT = 600.0  # container start to its first-boot report
PUPPET_LIMIT = 4 * 3600.0  # its report to the first Puppet run's end (the controller's takes most of an hour here)
PUPPET_SERVER_LIMIT = 1200.0
# The Neutron agents of the cluster: Linux bridge on both nodes; L3 and metadata on the controller (it is the
# network node of a cluster without one); DHCP on the compute (as on every compute of a cluster without one).
# What the lab stores in Swift, and reads back.
OBJECT_CONTENT = "stored by OCI's cloud lab, through the Swift proxy behind the API VIP\n"
AGENTS = ("DHCP agent", "L3 agent", "Linux bridge agent", "Linux bridge agent", "Metadata agent")


@dataclass
class Lab:
    folder: Path
    net: network.Network
    env: dict[str, str]
    store: Store
    puppet: subprocess.Popen[bytes]
    containers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    phases: list[tuple[str, float]] = field(default_factory=list)

    def ocicli(self, *args: str, timeout: float = 600) -> str:
        return run(self.net.inside(str(REPO / "bin" / "ocicli"), *args), env=self.env, timeout=timeout).stdout


@edge("oci-poc cloud")
def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="oci-poc cloud", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=LAB_DIR, help="the lab's files (default: %(default)s)")
    parser.add_argument("--keep", action="store_true", help="leave the cloud up at the end, and say how to reach it")
    parser.add_argument("--down", action="store_true", help="tear down a lab left up, and exit")
    args = parser.parse_args(argv)
    net = network.named(plan.NAMESPACE)
    if args.down:
        with master.exclusive(args.dir, "oci-poc cloud") if args.dir.is_dir() else contextlib.nullcontext():
            removed = _teardown(net, args.dir)
        print("\n".join(f"removed: {what}" for what in removed) if removed else "nothing to tear down")
        return 0
    _preflight()
    lab, passed = master.guarded_run(args.dir, net, "oci-poc cloud", MARKER, lambda: _play(args.dir, net),
                                     lambda: _teardown(net, args.dir), args.keep)  # fmt: skip
    if args.keep:
        _print_access(lab)
    return 0 if passed else 1


def _preflight() -> None:
    if os.geteuid() != 0:
        raise InvalidState("oci-poc cloud needs root (network namespaces, containers)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise InvalidState(f"missing tools: {', '.join(missing)}", hint="make poc-cloud installs them")


def _step(title: str) -> float:
    print(f"\n=== {title}", flush=True)
    return time.monotonic()


def _done(lab: Lab | None, title: str, started: float) -> None:
    seconds = time.monotonic() - started
    if lab is not None:
        lab.phases.append((title, seconds))
    print(f"=== done in {seconds:.1f} s", flush=True)


def _play(folder: Path, net: network.Network) -> tuple[Lab, bool]:
    total = time.monotonic()
    for child in master.ours(folder, MARKER, KEPT):
        shutil.rmtree(child) if child.is_dir() else child.unlink()
    started = _step(f"the lab's network: namespace {net.namespace}, bridge {poc_plan.BRIDGE} ({poc_plan.MASTER}, {plan.PUBLIC_MASTER})")
    network.up(net, poc_plan.Lab(()), 3142)
    run(["ip", "-n", net.namespace, "addr", "add", f"{plan.PUBLIC_MASTER}/{plan.PUBLIC.prefixlen}", "dev", poc_plan.BRIDGE], timeout=60)
    _done(None, "", started)

    started = _step(f"the package cache: apt-cacher-ng on {net.host_end}:3142, cache in {folder / 'package-cache'}")
    master.start_package_cache(folder, str(net.host_end), 3142, folder / "package-cache")
    network.cache_from_inside(net, 3142)
    _done(None, "", started)

    started = _step(f"the master in the lab: oci-api on {poc_plan.MASTER}:{plan.API_PORT}, the PKI, the Puppet server")
    site = master.Site(plan.DOMAIN, plan.API_PORT, plan.PUPPET_PORT)
    # The controller's first run deploys all of OpenStack: an hour is not a guard for it here.
    env, puppet = master.start(folder, net, site, None, extra_conf="first_run_attempts = 2\nfirst_run_timeout = 10800\n")
    lab = Lab(folder, net, env, Store.open(config_mod.load(env)), puppet)
    _done(lab, "the master", started)

    started = _step("the cluster, as an operator describes it")
    for command in plan.operator_commands():
        print(f"  ocicli {' '.join(command)}")
        lab.ocicli(*command)
    for node in plan.NODES:
        containers.plug(net, node)
        _report(lab, node)
        print(f"  {node.serial} reported (eth0 {node.mac}); ocicli machine-add {node.serial} {plan.CLUSTER} {node.role} {plan.LOCATION}")
        lab.ocicli("machine-add", node.serial, plan.CLUSTER, node.role, plan.LOCATION)
    # Before the Swift nodes' installs, which carry the rings.
    print(f"  ocicli swift-calculate-ring {plan.CLUSTER}")
    lab.ocicli("swift-calculate-ring", plan.CLUSTER)
    _done(lab, "the cluster", started)

    started = _step("the nodes' base tree: debootstrap and the packages of an install, through the cache")
    first = install.plan_of(lab.store, plan.NODES[0].serial)
    packages = plan.container_packages(first.packages)
    mirror = first.mirror.replace(str(poc_plan.MASTER), str(net.host_end))  # from the host, the cache is there
    base = containers.base_tree(folder, mirror, first.release, packages)
    _done(lab, "the base tree", started)

    started = _step("the Puppet server answers (a JVM: it started with the master)")
    master.until(lambda: master.puppet_server_answers(folder, net, site), PUPPET_SERVER_LIMIT, "the Puppet server", puppet)
    _done(lab, "the Puppet server", started)

    for node in plan.NODES:
        started = _step(f"{node.name}: {node.role} {node.serial}, installed as a container, boots, runs Puppet")
        ok = _install_and_run(lab, node, base)
        _done(lab, f"{node.role}: boot and first Puppet run", started)
        if not ok:
            _summary(lab, [], total)
            return lab, False

    started = _step(f"the cloud answers: the openstack client on the master, through https://{_api_hostname(lab)}")
    results = _check(lab)
    _done(lab, "the checks", started)
    _summary(lab, results, total)
    return lab, all(r.problem is None for r in results) and len(results) == len(_checks(lab))


def _report(lab: Lab, node: plan.Node) -> None:
    """The node's report, as its discovery agent would post it: a qemu VM's captured hardware with the container's
    NIC (the agent itself skips a veth, which is all a container has), and a disk the install plan accepts; a
    Swift store has a data disk besides."""
    nic = (CAPTURE / "ip-addr.json").read_text().replace(CAPTURED_NIC, plan.NIC).replace(CAPTURED_MAC, node.mac)
    disks = json.loads((CAPTURE / "lsblk.json").read_text().replace(CAPTURED_DISK, LAB_DISK))
    if node.role == "swiftstore":
        disks["blockdevices"].append({"name": plan.STORE_DISK, "maj:min": "252:16", "rm": "0", "size": "20G", "ro": "0", "type": "disk",
                                      "mountpoint": None})  # fmt: skip
    captured = Captures(
        dmidecode=(CAPTURE / "dmidecode.txt").read_text(),
        lsblk_json=json.dumps(disks),
        ip_link_json=nic,
    )
    body = build(captured, serial=node.serial)
    live = IPv4Address(int(poc_plan.MASTER) + 200 + node.index)  # where DHCP would have put its live image
    reports.record(lab.store, v1.parse(body), live, datetime.now(UTC).replace(microsecond=0))


def _install_and_run(lab: Lab, node: plan.Node, base: Path) -> bool:
    """The node's install bundle into a copy of the base tree, the machine ``installing`` as machine-install-os
    makes it; the container booted; then its statuses until its first Puppet run ends."""
    iplan, files = install.plan_for(lab.store, node.serial)
    root = lab.folder / "nodes" / node.name
    root.parent.mkdir(exist_ok=True)
    chosen = templates.load(lab.store.config.templates_dir)
    containers.make_root(lab.net, base, root, {path: (f.data, f.mode) for path, f in files.items()}, iplan, chosen, node.role)
    install.claim(lab.store, node.serial, " ".join(files[install.HOST_KEY + ".pub"].data.decode().split()[:2]))
    log = lab.folder / "logs" / f"{node.name}.console"
    lab.containers[node.name] = containers.boot(node, root, log)
    started, last = time.monotonic(), ""
    while True:
        machine = lab.store.get(Machine, node.serial)
        seen = f"{machine.status.value}, Puppet {machine.puppet_status.value}"
        if seen != last:
            print(f"  {time.monotonic() - started:7.1f} s  {node.serial}: {seen}", flush=True)
            last = seen
        if machine.puppet_status.value == "success":
            return True
        if machine.puppet_status.value == "failure":
            run_ = machine.puppet_run
            print(f"  Puppet failed on {node.name}: {run_.error if run_ and run_.error else 'no error line'}; "
                  f"its log: {root}/var/log/oci-puppet-run-*.log")  # fmt: skip
            return False
        waited = time.monotonic() - started
        if lab.containers[node.name].poll() is not None:
            print(f"  {node.name}'s container stopped (code {lab.containers[node.name].returncode}); see {log}")
            return False
        if (machine.status.value != "installed" and waited > BOOT_LIMIT) or waited > PUPPET_LIMIT:
            print(f"  {node.name}: no progress after {waited:.0f} s ({seen}); see {log}")
            return False
        time.sleep(POLL)  # the node reports to the API: nothing tells us when, so look again


def _api_hostname(lab: Lab) -> str:
    return lab.store.get(Cluster, plan.CLUSTER).api_hostname


def _client(lab: Lab) -> tuple[list[str], dict[str, str]]:
    """The openstack client in the lab's namespace, and its environment: the admin's credentials (in the
    environment, never in argv), the OCI CA, the API's name resolved to the VIP (the namespace's own hosts file)."""
    cluster = lab.store.get(Cluster, plan.CLUSTER)
    secrets = lab.store.get(ClusterSecrets, plan.CLUSTER).values
    vip = _vip(lab)
    hosts = Path("/etc/netns") / lab.net.namespace / "hosts"
    hosts.parent.mkdir(parents=True, exist_ok=True)
    hosts.write_text(f"127.0.0.1 localhost\n{vip} {cluster.api_hostname}\n")
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": str(lab.folder),
        "OS_AUTH_URL": f"https://{cluster.api_hostname}:5000/v3", "OS_IDENTITY_API_VERSION": "3",
        "OS_USERNAME": "admin", "OS_PASSWORD": secrets["keystone_admin"], "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default", "OS_REGION_NAME": str(cluster.setting("region_name")),
        "OS_INTERFACE": "public", "OS_CACERT": str(lab.store.root / "pki" / "ca-chain.pem"),
    }  # fmt: skip
    return lab.net.inside("openstack"), env


def _vip(lab: Lab) -> IPv4Address:
    reserved = vips.current(clusters.view(lab.store, plan.CLUSTER))
    if vips.VipUsage.API not in reserved:
        raise InvalidState(f"cluster {plan.CLUSTER} has no API VIP", hint="see cluster-check")
    return reserved[vips.VipUsage.API][1]


def _checks(lab: Lab) -> tuple[checks.Check, ...]:
    image_file = lab.folder / "oci-lab-image.raw"
    if not image_file.exists():
        image_file.write_bytes(image.disk())
    object_file = lab.folder / "oci-lab-object.txt"
    object_file.write_text(OBJECT_CONTENT)
    return checks.checks(_api_hostname(lab), str(image_file), AGENTS, str(object_file), OBJECT_CONTENT)


def _check(lab: Lab) -> list[checks.Result]:
    command, env = _client(lab)
    return checks.run_checks(_checks(lab), command, env, lambda line: print(line, flush=True))


def _summary(lab: Lab, results: list[checks.Result], total: float) -> None:
    print("\n=== summary")
    for title, seconds in lab.phases:
        print(f"  {title:<62} {seconds:8.1f} s")
    if results:
        print("  checks:")
        for result in results:
            print("  " + result.line())
        left = [c.title for c in _checks(lab)][len(results) :]
        for title in left:
            print(f"    not run {title}")
    print(f"  in all: {time.monotonic() - total:.0f} s", flush=True)


def _print_access(lab: Lab) -> None:
    """How to reach the cloud and the nodes of a lab left up; the client's environment in ``openrc`` (0600: the
    admin's password)."""
    _, env = _client(lab)
    openrc = lab.folder / "openrc"
    atomic_write(openrc, "".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items()) if k.startswith("OS_")).encode(), 0o600)
    nodes = "\n".join(f"  {n.name} ({n.role}): nsenter -t $(cat /proc/$(pgrep -f 'nspawn .*-M {n.name} ')/task/*/children) -a bash"
                      for n in plan.NODES if n.name in lab.containers)  # fmt: skip
    print(f"\nThe lab is left up (oci-poc cloud --down tears it down). The cloud, from the master's side:\n"
          f"  . {openrc}; ip netns exec {lab.net.namespace} openstack ...\nThe nodes:\n{nodes}")  # fmt: skip


def _teardown(net: network.Network, folder: Path) -> list[str]:
    """The containers and their namespaces, the namespace's hosts file, then what every lab has (master.teardown);
    the base tree and the package cache stay for the next run."""
    removed: list[str] = []
    for node in plan.NODES:
        removed += containers.unplug(node)
    hosts = Path("/etc/netns") / net.namespace
    if hosts.is_dir():
        shutil.rmtree(hosts)
        removed.append(str(hosts))
    return removed + master.teardown(net, folder, MARKER, KEPT)


if __name__ == "__main__":
    sys.exit(main())
