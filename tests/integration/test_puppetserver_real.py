"""The master's Puppet server for real (Debian's puppetserver, our configuration, oci-enc behind it), and real
agents: an enrolled machine's FQDN, with the certificate OCI issued at install time, gets its catalog compiled
from its ENC classes; a name OCI did not issue for gets nothing (no autosign); a removed machine's certificate
is refused. One server for the module: it is a JVM that takes a minute or more to start."""

from __future__ import annotations

import http.client
import os
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from conftest import NOW, free_port, report_body
from oci.config import Config
from oci.puppet import ca
from oci.report import v1
from oci.service import clusters, machines, networks, reports, topology
from oci.store import Store
from puppetserver import CERTNAME, PuppetServer, running

pytestmark = pytest.mark.slow
ROLES = ("controller", "controller", "controller", "compute")
AGENT_GUARD = 900  # seconds; a guard only
CRL_GUARD = 120


@dataclass(frozen=True)
class Site:
    store: Store
    server: PuppetServer
    hostnames: dict[str, str]  # serial -> FQDN


def enrol(store: Store) -> dict[str, str]:
    topology.region_create(store, "r1")
    topology.location_create(store, "loc1", "r1")
    networks.create(store, "mgmt", "192.168.101.0", "24", "loc1", "no")
    networks.create(store, "pub", "203.0.113.0", "28", "loc1", "yes")
    networks.create(store, "vipnet", "10.101.0.0", "24", "loc1", "no")
    clusters.create(store, "cl1", "example.com")
    for network, role in (("mgmt", "all"), ("pub", "all"), ("vipnet", "vip")):
        networks.add(store, network, "cl1", role, "eth0")
    hostnames = {}
    for i, role in enumerate(ROLES):
        serial = f"P{i:02d}"
        reports.record(store, v1.parse(report_body(serial)), IPv4Address(f"192.168.100.{i + 10}"), NOW)
        hostnames[serial] = machines.add(store, serial, "cl1", role, "loc1")["hostname"]
    return hostnames


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if shutil.which("puppetserver") is None or shutil.which("puppet") is None:
        pytest.fail("puppetserver is not installed: run make deps")
    base = tmp_path_factory.mktemp("puppetserver")
    # The report URL names an API port nothing listens on: a run's report is lost, which this test ignores.
    config = Config(state_dir=base / "state", puppet_confdir=base / "puppet", puppet_listen=("127.0.0.1", free_port()),
                    listen=("127.0.0.1", free_port()))  # fmt: skip
    (base / "state").mkdir()
    store = Store(base / "state", lock_timeout=10, config=config)
    hostnames = enrol(store)
    with running(store, base) as server:
        yield Site(store, server, hostnames)


def agent(site: Site, tmp_path: Path, certname: str, credentials: ca.AgentCredentials | None) -> subprocess.CompletedProcess[str]:
    """``puppet agent --test --noop`` as ``certname``, in folders of its own, with these credentials (as the
    install bundle puts them in Debian's agent ssldir), or none (it then asks the CA: --waitforcert 0)."""
    root = tmp_path / "agent"
    ssldir = root / "ssl"
    if credentials is not None:
        for relative, text, mode in ((f"certs/{certname}.pem", credentials.certificate_pem, 0o644),
                                     (f"private_keys/{certname}.pem", credentials.private_key_pem, 0o600),
                                     ("certs/ca.pem", credentials.ca_pem, 0o644), ("crl.pem", credentials.crl_pem, 0o644)):  # fmt: skip
            path = ssldir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(mode)
    argv = ["puppet", "agent", "--test", "--noop", "--detailed-exitcodes", "--confdir", str(root / "conf"), "--vardir", str(root / "var"),
            "--ssldir", str(ssldir), "--server", CERTNAME, "--serverport", str(site.server.port), "--certname", certname,
            "--http_keepalive_timeout", "0", "--waitforcert", "0", "--no-daemonize", "--no-usecacheonfailure",
            "--color", "false"]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=AGENT_GUARD, env={**os.environ, "LANG": "C.UTF-8"})


def applied_classes(tmp_path: Path) -> set[str]:
    """The classes of the catalog the agent received (it writes them at each run; a --noop run caches no catalog)."""
    path = tmp_path / "agent" / "var" / "state" / "classes.txt"
    return set(path.read_text().split()) if path.exists() else set()


def test_an_enrolled_machine_gets_the_catalog_of_its_enc_classes(site, tmp_path):
    fqdn = site.hostnames["P03"]  # the compute
    done = agent(site, tmp_path, fqdn, ca.issue(site.store, fqdn))
    # Applied in --noop mode, some resources fail here (no Open vSwitch, no services): the catalog is the point.
    assert {"oci::cluster", "oci::compute", "oci::generic"} <= applied_classes(tmp_path), done.stdout[-3000:] + done.stderr[-3000:]
    assert "Applying configuration version" in done.stdout
    assert f"Compiled catalog for {fqdn}" in site.server.log.read_text()


def test_a_name_oci_did_not_issue_for_gets_nothing(site, tmp_path):
    done = agent(site, tmp_path, "intruder.example.com", None)
    assert done.returncode != 0 and not applied_classes(tmp_path)
    assert not (tmp_path / "agent" / "ssl" / "certs" / "intruder.example.com.pem").exists(), "no autosign"
    cadir = site.server.confdir / "puppetserver" / "ca"
    assert (cadir / "requests" / "intruder.example.com.pem").exists() and not (cadir / "signed" / "intruder.example.com.pem").exists()


def node_request(site: Site, tmp_path: Path, fqdn: str, credentials: ca.AgentCredentials) -> int:
    """The server's answer to the node's own ENC request (its ``node`` endpoint), with these credentials."""
    (tmp_path / "cert.pem").write_text(credentials.certificate_pem)
    (tmp_path / "key.pem").write_text(credentials.private_key_pem)
    (tmp_path / "key.pem").chmod(0o600)
    context = ssl.create_default_context(cadata=credentials.ca_pem)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    conn = http.client.HTTPSConnection(CERTNAME, site.server.port, timeout=120, context=context)
    conn.request("GET", f"/puppet/v3/node/{fqdn}?environment=production", headers={"Accept": "application/json"})
    return conn.getresponse().status


def refusal(site: Site, tmp_path: Path, fqdn: str, credentials: ca.AgentCredentials) -> str | None:
    try:
        node_request(site, tmp_path, fqdn, credentials)
    except ssl.SSLError as exc:
        return str(exc)
    return None


def test_a_removed_machines_certificate_is_refused(site, tmp_path):
    fqdn = site.hostnames["P02"]  # a controller
    credentials = ca.issue(site.store, fqdn)
    assert node_request(site, tmp_path, fqdn, credentials) == 200
    machines.remove(site.store, "P02")
    # The server's web server watches its CRL file and reloads it (no restart); the watch is asynchronous, so
    # the refusal is awaited, within a generous guard.
    deadline = time.monotonic() + CRL_GUARD
    while (refused := refusal(site, tmp_path, fqdn, credentials)) is None:
        assert time.monotonic() < deadline, "the server still accepts a revoked certificate"
        time.sleep(0.2)
    assert "CERTIFICATE_UNKNOWN" in refused
    done = agent(site, tmp_path, fqdn, credentials)
    assert done.returncode != 0 and not applied_classes(tmp_path)
    assert "alert certificate unknown" in done.stdout + done.stderr, done.stdout[-3000:] + done.stderr[-3000:]
