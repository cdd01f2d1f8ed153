"""The master's side of a lab in its network namespace: the package cache on the host, and in the namespace
``oci-api``, the PKI, the Puppet server with our ENC, and for labs whose machines PXE-boot, dhcpd and TFTP.

``oci-poc vms`` (qemu VMs) and ``oci-poc cloud`` (containers, lib/oci/cloudlab/) both start it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TypeVar

from oci import config as config_mod
from oci.errors import InvalidInput, InvalidState
from oci.packagecache import apt_cacher_ng_conf
from oci.pocvms import network, plan
from oci.run import CommandError, run, spawn
from oci.store import Store

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True, slots=True)
class Site:
    """The master's names and ports in the lab."""

    domain: str
    api_port: int
    puppet_port: int

    @property
    def puppet_certname(self) -> str:
        return f"puppet.{self.domain}"


@dataclass(frozen=True, slots=True)
class Boot:
    """What network boot needs: the live image's folder and the live SSH CA it was built with."""

    live_dir: Path
    live_ca: Path


def start_package_cache(folder: Path, address: str, port: int, cache_dir: Path) -> subprocess.Popen[bytes]:
    """apt-cacher-ng on the host at ``address:port`` (the lab's end of the veth reaches it), its cache in ``cache_dir``."""
    conf = folder / "apt-cacher-ng"
    conf.mkdir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    (conf / "acng.conf").write_text(apt_cacher_ng_conf(cache_dir, conf, address, port, conf / "socket"))
    process = spawn(["apt-cacher-ng", "-c", str(conf)], log=conf / "output.log")
    (folder / "apt-cacher-ng.pid").write_text(f"{process.pid}\n")
    until(lambda: answers(["curl", "-sf", "-o", "/dev/null", f"http://{address}:{port}/acng-report.html"]), 60,
          f"apt-cacher-ng on {address}:{port}", process)  # fmt: skip
    return process


def answers(argv: list[str]) -> bool:
    try:
        run(argv, timeout=30)
        return True
    except CommandError:
        return False


def until(condition: Callable[[], bool], guard: float, what: str, process: subprocess.Popen[bytes] | None = None) -> None:
    give_up = time.monotonic() + guard
    while not condition():
        if (process is not None and process.poll() is not None) or time.monotonic() > give_up:
            raise InvalidState(f"{what} did not come up")
        time.sleep(0.5)  # a daemon starting: it says nothing when it is ready, so ask again


def start(
    folder: Path, net: network.Network, site: Site, boot: Boot | None, extra_conf: str = ""
) -> tuple[dict[str, str], subprocess.Popen[bytes]]:
    """The master's configuration, state and daemons in the namespace: the environment ocicli uses, and the Puppet
    server's process (a JVM: it starts while the machines boot). ``extra_conf``: more of the configuration file."""
    state_dir, conf = folder / "state", folder / "oci.conf"
    boot_conf = f"[boot]\nlive_dir = {boot.live_dir}\nkernel_args = console=ttyS0,115200\n" if boot else ""
    conf.write_text(
        f"[api]\nlisten = {plan.MASTER}:{site.api_port}\n[network]\nprovisioning_network = {plan.PROVISIONING}\noci_ip = {plan.MASTER}\n"
        f"{boot_conf}[puppet]\nconfdir = {folder / 'puppet'}\nlisten = {plan.MASTER}:{site.puppet_port}\n{extra_conf}"
    )
    env = {**os.environ, "OCI_CONFIG": str(conf), "OCI_STATE_DIR": str(state_dir)}
    if boot:
        shutil.copytree(boot.live_ca, state_dir / "ssh" / "live")  # the CA whose user key the image trusts
    run([str(REPO / "bin" / "oci-pki"), "init"], env=env, timeout=300)
    logs = folder / "logs"
    logs.mkdir()
    if boot:
        root = folder / "root"
        run([str(REPO / "bin" / "oci-boot-render"), "--check", "--target", str(root)], env=env, timeout=120)
        (folder / "dhcpd.leases").touch()
        dhcpd = ["dhcpd", "-f", "-4", "-cf", str(root / "etc/dhcp/dhcpd.conf"), "-lf", str(folder / "dhcpd.leases"),
                 "-pf", str(folder / "dhcpd.pid"), plan.BRIDGE]  # fmt: skip
        spawn(net.inside(*dhcpd), log=logs / "dhcpd.log")
        # TFTP for firmware that PXE-boots (a server's NIC; the VMs' iPXE ROM goes to HTTP at once): dnsmasq as TFTP
        # server only (no DNS, no DHCP: dhcpd is ours), from Debian's dnsmasq-base, which has no service of its own.
        tftp = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0", f"--interface={plan.BRIDGE}",
                "--bind-interfaces", "--enable-tftp", f"--tftp-root={root / 'srv/tftp'}", f"--pid-file={folder / 'dnsmasq.pid'}",
                "--log-facility=-"]  # fmt: skip
        spawn(net.inside(*tftp), log=logs / "tftp.log")
    api = spawn(net.inside(str(REPO / "bin" / "oci-api"), "--debug"), env=env, log=logs / "oci-api.log")
    until(lambda: answers(net.inside("curl", "-sf", "-o", "/dev/null", f"http://{plan.MASTER}:{site.api_port}/api/v1/health")),
          120, "oci-api", api)  # fmt: skip
    run([str(REPO / "bin" / "oci-puppet-setup"), "--certname", site.puppet_certname, "--vardir", str(folder / "puppetserver")],
        env=env, timeout=900)  # fmt: skip
    from oci.puppet import server as puppet_server

    store = Store.open(config_mod.load(env))
    token = puppet_server.read_token(store)
    assert token is not None, "oci-puppet-setup made it"
    settings = puppet_server.settings_for(store.config, token, site.puppet_certname, folder / "puppetserver")
    server_env = {k: v for k, v in env.items() if k != "OCI_CONFIG"}
    server = spawn(net.inside(*puppet_server.command(settings)), env=server_env, cwd=puppet_server.PUPPETSERVER_HOME,
                   log=logs / "puppetserver.log")  # fmt: skip
    return env, server


def puppet_server_answers(folder: Path, net: network.Network, site: Site) -> bool:
    """The Puppet server in the namespace answers its status over HTTPS, verified against its CA."""
    from oci import puppet as layout

    cafile = layout.ssldir(folder / "puppet") / "certs" / "ca.pem"
    url = f"https://{plan.MASTER}:{site.puppet_port}/status/v1/simple"
    return answers(net.inside("curl", "-sf", "--max-time", "10", "--cacert", str(cafile), url))


# ---------------------------------------------------------------------------------------------- the lab's folder
LOCK = "run.lock"


def claim(folder: Path, marker: str, command: str) -> None:
    """``folder`` made the lab's (``marker`` in it), or refused if it holds anything else: a teardown empties it."""
    if folder.is_dir() and not (folder / marker).exists() and any(c.name != LOCK for c in folder.iterdir()):
        raise InvalidInput(f"--dir {folder}: not empty, and not an {command} folder (no {marker} in it)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / marker).touch()


def ours(folder: Path, marker: str, kept: tuple[str, ...] = ()) -> list[Path]:
    """What a teardown removes from the lab's folder: everything but its marker, lock and ``kept``, if it is the lab's."""
    if not (folder / marker).exists():
        return []
    return [child for child in sorted(folder.iterdir()) if child.name not in (marker, LOCK, *kept)]


@contextlib.contextmanager
def exclusive(folder: Path, command: str) -> Iterator[None]:
    """One run at a time: a lock held while the run lasts (released by the kernel if it is killed)."""
    path = folder / LOCK
    with path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise InvalidState(f"another {command} is running (pid {holder})", hint="wait for it, or stop it with Ctrl-C") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        yield


T = TypeVar("T")


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM tears down as Ctrl-C does


def guarded_run(folder: Path, net: network.Network, command: str, marker: str, play: Callable[[], T], teardown: Callable[[], object],
                keep: bool) -> T:  # fmt: skip
    """``play`` a lab in ``folder`` (claimed with ``marker``), one run at a time, refused while a lab is up in its
    namespace. Ctrl-C and SIGTERM tear it down, even when the run inherited SIGINT ignored (started in the
    background of a shell, as CI does: Python keeps an ignored SIGINT ignored); so does a failure. ``keep``
    keeps a run that went to its end, not a failed set-up or a Ctrl-C."""
    claim(folder, marker, command)
    with exclusive(folder, command):
        if network.exists(net):
            raise InvalidState(f"a lab is up in namespace {net.namespace} (left by --keep, or a run that was killed)",
                               hint=f"{command} --down removes it")  # fmt: skip
        signal.signal(signal.SIGTERM, _interrupted)
        signal.signal(signal.SIGINT, _interrupted)
        try:
            result = play()
        except BaseException:
            teardown()
            raise
        if not keep:
            teardown()
        return result


def teardown(net: network.Network, folder: Path, marker: str, kept: tuple[str, ...] = ()) -> list[str]:
    """Everything of a lab but ``kept``: its processes and namespace (network.down), the package cache's daemon on
    the host, its folder's files. The lock file stays (a run may be waiting on it). What it removed."""
    removed = network.down(net)
    pidfile = folder / "apt-cacher-ng.pid"
    if pidfile.is_file():
        with contextlib.suppress(ValueError):
            # Gone before its folder is removed: a cache still writing there makes the removal fail.
            network.stop([int(pidfile.read_text())])
            removed.append("the lab's apt-cacher-ng")
        pidfile.unlink()
    for child in ours(folder, marker, kept) if folder.is_dir() else []:
        shutil.rmtree(child) if child.is_dir() else child.unlink()
        removed.append(str(child))
    return removed
