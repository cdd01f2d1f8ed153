"""The cloud lab's nodes: systemd-nspawn containers booting Debian 12 with systemd, each in a network namespace
of its own whose ``eth0`` is a veth on the lab's bridge.

A container stands for an installed server: its root is a copy of a base tree (debootstrap, and the packages an
install plan puts on a server, less the kernel and the boot loader), with the files of the node's install
bundle written into it as ``oci-install`` writes them on a disk, and the bundle's units enabled. It boots: the
first-boot unit reports ``installed``, the first Puppet run gets its catalog from the master's Puppet server.
What a container cannot do, a server's install does and the VM tests show (partitions, RAID, a boot loader).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from oci.cloudlab import plan
from oci.install import plan as install_plan
from oci.install import render
from oci.install.steps import KEYRING
from oci.netconf.target import write_files
from oci.pocvms import network
from oci.pocvms import plan as poc_plan
from oci.run import run, spawn
from oci.templates import Templates

QUICK = 60.0  # one ip, cp or systemctl command: a guard, never a figure
BASE_BUILD_LIMIT = 3600.0  # debootstrap and its packages through the cache (a few minutes when the cache is warm)
PACKAGES_FILE = ".oci-cloudlab-packages"  # in a base tree: the packages it was made with, one per line


def base_tree(folder: Path, mirror: str, release: str, packages: tuple[str, ...]) -> Path:
    """The base tree for ``packages`` in ``folder/base``, made with debootstrap from ``mirror`` unless the one there
    was made for the same packages. Made in a temporary folder first: an interrupted build leaves no base."""
    base = folder / "base"
    wanted = "".join(f"{name}\n" for name in packages)
    with contextlib.suppress(OSError):
        if (base / PACKAGES_FILE).read_text() == wanted:
            return base
    making = folder / "base.new"
    shutil.rmtree(making, ignore_errors=True)
    shutil.rmtree(base, ignore_errors=True)
    argv = ["debootstrap", "--variant=minbase", "--merged-usr", f"--keyring={KEYRING}", f"--include={','.join(packages)}",
            release, str(making), mirror]  # fmt: skip
    run(argv, timeout=BASE_BUILD_LIMIT)
    # Units that have no place in a container: the console's getty (nspawn has its own) and time sync from the
    # Internet (the host keeps the time).
    run(["systemctl", f"--root={making}", "mask", "chrony.service", "getty@tty1.service"], timeout=QUICK)
    (making / PACKAGES_FILE).write_text(wanted)
    making.rename(base)
    return base


def make_root(
    net: network.Network,
    base: Path,
    root: Path,
    files: dict[str, tuple[bytes, int]],
    iplan: install_plan.InstallPlan,
    chosen: Templates,
    role: str,
) -> None:
    """``root``: a copy of ``base`` with what an install writes on a server's disk: the apt sources and their
    package lists (fetched in the lab's namespace, from the master's address, as the install does), the bundle's
    files at their modes, the hostname; what a container of ``role`` needs beyond (``plan.container_files``);
    the CA certificates taken in and the plan's units enabled."""
    shutil.rmtree(root, ignore_errors=True)
    run(["cp", "-a", "--reflink=auto", str(base), str(root)], timeout=BASE_BUILD_LIMIT)
    (root / PACKAGES_FILE).unlink()
    rendered = {
        install_plan.SOURCES_PATH: render.apt_sources(iplan, chosen).encode(),
        install_plan.HOSTNAME_PATH: render.hostname(iplan.hostname, chosen).encode(),
    }
    write_files(root, rendered)
    run(net.inside("chroot", str(root), "apt-get", "-q", "update"), timeout=BASE_BUILD_LIMIT)
    write_files(root, {path: data for path, (data, _) in files.items()}, modes={path: mode for path, (_, mode) in files.items()})
    write_files(root, {path: text.encode() for path, text in plan.container_files(role).items()})
    run(["chroot", str(root), "update-ca-certificates"], timeout=QUICK)
    if iplan.units:
        run(["systemctl", f"--root={root}", "enable", *iplan.units], timeout=QUICK)


def plug(net: network.Network, node: plan.Node) -> None:
    """The node's namespace and its ``eth0``, a veth whose other end is on the lab's bridge (the address is the
    node's own business: its ifupdown sets what the bundle says)."""
    unplug(node)
    run(["ip", "netns", "add", node.namespace], timeout=QUICK)
    try:
        run(["ip", "-n", net.namespace, "link", "add", node.lab_link, "type", "veth", "peer", "name", plan.NIC,
             "netns", node.namespace], timeout=QUICK)  # fmt: skip
        run(["ip", "-n", node.namespace, "link", "set", plan.NIC, "address", node.mac], timeout=QUICK)
        run(["ip", "-n", net.namespace, "link", "set", node.lab_link, "master", poc_plan.BRIDGE, "up"], timeout=QUICK)
    except BaseException:
        unplug(node)
        raise


def unplug(node: plan.Node) -> list[str]:
    """Stop what runs in the node's namespace (its container) and delete the namespace, with its veth."""
    removed = network.stop_namespace(node.namespace)
    if os.path.exists(f"/run/netns/{node.namespace}"):
        run(["ip", "netns", "del", node.namespace], timeout=QUICK)
        removed.append(f"namespace {node.namespace}")
    return removed


def boot(node: plan.Node, root: Path, log: Path) -> subprocess.Popen[bytes]:
    """systemd-nspawn booting ``root`` in the node's namespace. No systemd runs on the host here: no machine
    registration, and the scope is the caller's. The network sysctls must be writable (Neutron, keepalived) and
    every capability is given (iptables, bridges, namespaces for Neutron's routers); /dev/net/tun for the
    tap devices of libvirt and Neutron."""
    argv = [
        "systemd-nspawn", "--quiet", "-D", str(root), "--boot", f"--network-namespace-path=/run/netns/{node.namespace}",
        "--register=no", "--keep-unit", "-M", node.name, "--capability=all", "--bind=/dev/net/tun",
    ]  # fmt: skip
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_NSPAWN_API_VFS_WRITABLE": "network"}
    return spawn(argv, env=env, log=log)
