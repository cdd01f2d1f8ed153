"""A live node's sshd for the tests that reach a node over OCI's SSH channel (lib/oci/remote.py): on
127.0.0.1, with a host key certified by the live host CA for ``<serial>.oci-debian-live``, root logins only
with a certificate of the live user CA, as the live image runs it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from conftest import NOW, free_port, report_body, ssh_keygen
from oci.config import Config
from oci.pki import ssh
from oci.report import v1
from oci.service import clusters, machines, networks, reports, topology
from oci.store import Store

GUARD = 60  # seconds: only against an sshd that never comes up or never stops


def wait_for_certificate(port: int, sshd: subprocess.Popen[str], certificate: str) -> None:
    """Until the sshd on ``port`` presents ``certificate`` (after a start or a SIGHUP, which re-executes it);
    the time limit is only a guard against an sshd that never comes up."""
    blob = certificate.split()[1]
    give_up = time.monotonic() + GUARD
    while blob not in subprocess.run(["ssh-keyscan", "-c", "-p", str(port), "127.0.0.1"], capture_output=True, text=True).stdout:
        if sshd.poll() is not None or time.monotonic() > give_up:
            pytest.fail(f"sshd on port {port} does not present the expected host certificate")
        time.sleep(0.1)


def live_node_config(store: Store, folder: Path, serial: str, port: int, force_command: Path | None = None) -> Path:
    """The sshd configuration of live node ``serial`` (its host key, live certificate and the trusted user CA
    written in ``folder``); ``force_command`` runs instead of what the master asks (it sees
    ``$SSH_ORIGINAL_COMMAND``)."""
    if not os.path.exists("/usr/sbin/sshd"):
        pytest.fail("openssh-server is not installed: run make deps")
    ssh.ensure_cas(store, None)
    host_public = ssh_keygen(folder / "host_key")
    principals = [f"{serial}.{ssh.LIVE_DOMAIN}".lower(), "127.0.0.1"]
    (folder / "host_key-cert.pub").write_text(ssh.sign(store, None, host_public, f"oci-host-{serial}", principals) + "\n")
    (folder / "user_ca.pub").write_text(ssh.public_ca(store, None, "user_ca") + "\n")
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\nHostCertificate {folder / 'host_key-cert.pub'}\n"
        f"TrustedUserCAKeys {folder / 'user_ca.pub'}\nAuthorizedKeysFile none\nPasswordAuthentication no\n"
        f"KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUsePAM no\nPidFile {folder / 'sshd.pid'}\n"
        f"StrictModes no\n" + (f"ForceCommand {force_command}\n" if force_command else "")
    )
    return config


@contextlib.contextmanager
def running(config: Path, port: int, wrapper: Sequence[str] = ()) -> Iterator[subprocess.Popen[str]]:
    """sshd of ``config`` in the foreground (``wrapper`` before it, e.g. a mount namespace), once it presents
    its certificate; stopped at the end, even when the test fails."""
    os.makedirs("/run/sshd", exist_ok=True)  # its privilege separation folder
    argv = [*wrapper, "/usr/sbin/sshd", "-D", "-e", "-f", str(config)]
    sshd = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_certificate(port, sshd, (config.parent / "host_key-cert.pub").read_text())
        yield sshd
    finally:
        if sshd.poll() is None:
            sshd.terminate()
        sshd.communicate(timeout=GUARD)


@contextlib.contextmanager
def installed_node(site: Store, folder: Path, cluster: str, serial: str, hostname: str, port: int, force_command: Path | None = None,
                   wrapper: Sequence[str] = ()) -> Iterator[subprocess.Popen[str]]:  # fmt: skip
    """Installed node ``serial`` (``hostname``) of ``cluster`` at 127.0.0.1:``port``: its sshd with the cluster's host
    certificate, trusting the cluster's user CA, as the installer leaves it; stopped at the end."""
    config = live_node_config(site, folder, serial, port, force_command=force_command)
    ssh.ensure_cas(site, cluster)
    public = (folder / "host_key.pub").read_text().strip()
    (folder / "host_key-cert.pub").write_text(ssh.sign(site, cluster, public, f"oci-host-{serial}", [hostname]) + "\n")
    (folder / "user_ca.pub").write_text(ssh.public_ca(site, cluster, "user_ca") + "\n")
    with running(config, port, wrapper) as sshd:
        yield sshd


def enrolment_site(store: Store) -> None:
    """Region r1, location loc1, network net1 (192.168.101.0/24, every role on eth0) and cluster cl1
    (example.com): where the node tests enrol their machines."""
    topology.region_create(store, "r1")
    topology.location_create(store, "loc1", "r1")
    networks.create(store, "net1", "192.168.101.0", "24", "loc1", "no")
    clusters.create(store, "cl1", "example.com")
    networks.add(store, "net1", "cl1", "all", "eth0")


def controller_store(tmp_path: Path, port: int, puppet_confdir: Path) -> Store:
    """A master's state in ``tmp_path/state`` whose machine C0, live at 127.0.0.1 (its sshd on ``port``), is
    the controller of cl1: what the install hand-over and cluster-install tests start from."""
    config = Config(state_dir=tmp_path / "state", master_address=IPv4Address("127.0.0.1"), ssh_port=port, ssh_connect_timeout=15,
                    templates_dir=tmp_path / "no-overrides", install_extras_dir=tmp_path / "extras",
                    puppet_confdir=puppet_confdir)  # fmt: skip
    (tmp_path / "state").mkdir()
    store = Store(tmp_path / "state", lock_timeout=10, config=config)
    enrolment_site(store)
    reports.record(store, v1.parse(report_body("C0")), IPv4Address("127.0.0.1"), NOW)
    machines.add(store, "C0", "cl1", "controller", "loc1")
    return store


@contextlib.contextmanager
def recording_live_node(store: Store, folder: Path, serial: str, recorder: str) -> Iterator[tuple[Store, Path, subprocess.Popen[str]]]:
    """Live node ``serial`` at 127.0.0.1 (it reported from there) whose sshd runs ``recorder``, a shell script with
    ``{log}`` in it, instead of the commands it is asked: (the store, with the node's SSH port, the log, the sshd)."""
    port = free_port()
    site = Store(store.root, lock_timeout=10, config=replace(store.config, ssh_port=port, ssh_connect_timeout=15))
    log = folder / "commands"
    script = folder / "record"
    script.write_text(recorder.format(log=log))
    script.chmod(0o755)
    with running(live_node_config(site, folder, serial, port, force_command=script), port) as sshd:
        yield site, log, sshd
