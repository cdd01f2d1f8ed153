"""The master side of an install: the plan made from the state (golden files of its text for each disk
layout), the bundle (its files and modes, the network files of oci-netconf, no secret but this node's), and
the refusals of machine-install-os (one line, nothing written). The hand-over over a real sshd is in
tests/integration/test_install_handover.py."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from test_bad_input import refused_in_one_line

from conftest import NOW, REPO, report_body, state_files
from oci import packagecache
from oci.cli.main import main
from oci.config import Config
from oci.errors import Conflict, InvalidInput
from oci.install.bundle import pack, unpack
from oci.install.plan import describe
from oci.model import Machine, MachineStatus
from oci.netconf import service as netconf
from oci.operations import execute
from oci.pki import ssh
from oci.report import v1
from oci.service import clusters, install, machines, networks, reports, swiftring, tokens, topology
from oci.store import Store
from wsgi_client import Client

GOLDEN = REPO / "tests" / "data" / "golden" / "install"
GIB = 1 << 30
MASTER = IPv4Address("192.168.100.2")


def disks(*names: str, size: int = 20 * GIB) -> list[dict[str, Any]]:
    return [{"name": name, "size_bytes": size} for name in names]


@pytest.fixture
def master(tmp_path: Path, discover, puppet_ca: Path) -> Store:
    """A site whose master is at 192.168.100.2 with its package cache on, and an empty extras folder."""
    config = Config(
        state_dir=tmp_path / "state",
        master_address=MASTER,
        listen=("0.0.0.0", 8080),
        templates_dir=tmp_path / "no-overrides",
        install_extras_dir=tmp_path / "extras",
        puppet_confdir=puppet_ca,
    )
    return Store(tmp_path / "state", lock_timeout=10, config=config)


@pytest.fixture
def enrol(master: Store, tmp_path: Path):
    """enrol(serial, disks=..., settings=..., **report overrides): a cluster cl1 on net1, the machine reported and
    enrolled as a controller (more machines: computes)."""
    topology.region_create(master, "r1")
    topology.location_create(master, "loc1", "r1")
    networks.create(master, "net1", "192.168.101.0", "24", "loc1", "no")
    clusters.create(master, "cl1", "example.com")
    networks.add(master, "net1", "cl1", "all", "eth0")

    def run(serial: str, role: str = "controller", settings: dict[str, Any] | None = None, address: str = "192.168.100.20", **report: Any):
        reports.record(master, v1.parse(report_body(serial, **report)), IPv4Address(address), NOW)
        machines.add(master, serial, "cl1", role, "loc1")
        if settings:
            machines.set_(master, serial, settings, [])
        return master

    return run


def set_status(site: Store, serial: str, status: MachineStatus) -> None:
    with site.machine_lock([serial]):
        site.write_machine(replace(site.get(Machine, serial), status=status))


LAYOUTS = {
    "one-disk": ({}, {"disks": disks("vda")}),
    "raid1": (
        {"install_on_raid": True, "raid_type": "1", "raid_dev0": "sda", "raid_dev1": "sdb"},
        {"disks": disks("sda", "sdb")},
    ),
    "raid10": (
        {"install_on_raid": True, "raid_type": "10", "raid_dev0": "sda", "raid_dev1": "sdb", "raid_dev2": "sdc", "raid_dev3": "sdd"},
        {"disks": disks("sda", "sdb", "sdc", "sdd")},
    ),
    "raid5": (
        {"install_on_raid": True, "raid_type": "5", "raid_dev0": "sda", "raid_dev1": "sdb", "raid_dev2": "sdc"},
        {"disks": disks("sda", "sdb", "sdc")},
    ),
    "nvme-raid1": (
        {"install_on_raid": True, "raid_type": "1", "raid_dev0": "nvme0n1", "raid_dev1": "nvme1n1", "serial_console_device": "none"},
        {"disks": disks("nvme0n1", "nvme1n1")},
    ),
    "uefi-secure-boot": (
        {},
        {
            "disks": disks("sda"),
            "system": {"manufacturer": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)", "uefi": True, "secure_boot": True},
        },
    ),
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_the_plan_of_each_disk_layout(enrol, name):
    settings, report = LAYOUTS[name]
    site = enrol("C1", settings=settings, **report)
    before = state_files(site)
    result = install.install_os(site, "C1", dry_run=True)
    assert state_files(site) == before, "a dry run changes nothing"
    golden = GOLDEN / f"plan-{name}.txt"
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        golden.write_text(result["plan"])
    assert result["plan"] == golden.read_text()
    plan, _ = install.plan_for(site, "C1")
    assert describe(plan) == result["plan"]


@pytest.mark.parametrize(
    ("settings", "report", "message"),
    [
        ({}, {"disks": disks("vda", size=7 * GIB)}, "disk vda (7.0 GiB) is smaller than the 8.0 GiB an install needs"),
        ({"install_on_raid": True, "raid_type": "1", "raid_dev0": "sda", "raid_dev1": "sda"}, {"disks": disks("sda", "sdb")},
         "RAID 1 lists sda twice"),
        ({"install_on_raid": True, "raid_type": "5", "raid_dev0": "sda", "raid_dev1": "sdb", "raid_dev2": "sdc"},
         {"disks": disks("sda", "sdb")}, "the machine has no disk sdc"),
        ({"dest_blk": "sdz"}, {"disks": disks("sda")}, "the machine has no disk sdz"),
    ],
)  # fmt: skip
def test_bad_disk_settings_are_refused_in_one_line_and_nothing_is_written(enrol, settings, report, message):
    site = enrol("C1", settings=settings, **report)
    before = state_files(site)
    for dry_run in (True, False):
        with pytest.raises(InvalidInput) as err:
            install.install_os(site, "C1", dry_run=dry_run)
        assert err.value.message == message and "\n" not in err.value.message
    assert state_files(site) == before
    assert site.get(Machine, "C1").status is MachineStatus.LIVE


def test_refusals_not_enrolled_not_live_no_pki(enrol):
    site = enrol("C1")
    reports.record(site, v1.parse(report_body("C9")), IPv4Address("192.168.100.29"), NOW)
    before = state_files(site)
    with pytest.raises(Conflict, match="^machine C9 is in no cluster$"):
        install.install_os(site, "C9")
    set_status(site, "C1", MachineStatus.INSTALLED)
    with pytest.raises(Conflict, match="^machine C1 is installed, not live$"):
        install.install_os(site, "C1", dry_run=True)
    set_status(site, "C1", MachineStatus.LIVE)
    (site.root / "pki" / "oci-ca.pem").rename(site.root / "oci-ca.pem.aside")
    with pytest.raises(Conflict, match="^the certificate authority is not initialised$"):
        install.install_os(site, "C1")
    (site.root / "oci-ca.pem.aside").rename(site.root / "pki" / "oci-ca.pem")
    assert state_files(site) == before


def test_an_unknown_master_address_is_a_configuration_error(enrol, master):
    site = enrol("C1")
    unset = Store(site.root, lock_timeout=10, config=replace(site.config, master_address=None))
    with pytest.raises(Conflict, match="the package cache is on but the master's address is unknown"):
        install.install_command(unset, "C1")
    direct = Store(site.root, lock_timeout=10, config=replace(site.config, master_address=None, package_cache=False))
    with pytest.raises(Conflict, match="^the master's address for nodes is not configured$"):
        install.install_command(direct, "C1")
    through = Store(site.root, lock_timeout=10, config=replace(site.config, package_cache=False, boot_url="https://oci.example.com"))
    plan = install.plan_for(through, "C1")[0]
    assert (plan.mirror, plan.status_url) == ("http://deb.debian.org/debian", "https://oci.example.com/api/v1/status")


def test_the_package_cache_urls():
    config = Config(master_address=MASTER)
    assert (
        packagecache.through_cache(config, "https://deb.example.org/debian") == "http://192.168.100.2:3142/HTTPS///deb.example.org/debian"
    )
    assert packagecache.through_cache(replace(config, package_cache_port=9999), "http://a/b") == "http://192.168.100.2:9999/a/b"
    assert packagecache.through_cache(replace(config, package_cache=False), "http://a/b") == "http://a/b"


def modes(files) -> str:
    return "".join(f"{item.mode:04o} {path}\n" for path, item in sorted(files.items()))


def test_swift_nodes_get_the_clusters_rings_once_they_exist(enrol):
    site = enrol("S1", role="swiftstore")
    enrol("P1", role="swiftproxy", address="192.168.100.21")
    assert not any(path.startswith("etc/swift/") for path in install.plan_for(site, "S1")[1])  # no rings yet
    folder = swiftring.folder(site, "cl1")
    folder.mkdir(parents=True)
    for ring in ("account", "container", "object"):
        (folder / f"{ring}.ring.gz").write_bytes(f"{ring} ring".encode())
    for serial in ("S1", "P1"):
        plan, files = install.plan_for(site, serial)
        rings = {path: (item.data, item.mode) for path, item in files.items() if path.startswith("etc/swift/")}
        assert rings == {f"etc/swift/{r}.ring.gz": (f"{r} ring".encode(), 0o644) for r in ("account", "container", "object")}
        assert "etc/swift/object.ring.gz" in plan.files
    enrol("C2", role="compute", address="192.168.100.22")
    assert not any(path.startswith("etc/swift/") for path in install.plan_for(site, "C2")[1])


def test_the_bundle_files_and_modes(enrol):
    site = enrol("C1")
    plan, files = install.plan_for(site, "C1")
    golden = GOLDEN / "bundle-files.txt"
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        golden.write_text(modes(files))
    assert modes(files) == golden.read_text()
    unpacked_plan, unpacked = unpack(pack(plan, files))
    assert unpacked_plan == plan and unpacked == files
    text = {path: item.data.decode() for path, item in files.items()}
    assert text["etc/oci/system-serial"] == "C1\n"
    assert text["etc/oci/my-ip"] == "192.168.101.2\n"
    assert text["etc/oci/pxe-server-ip"] == "http://192.168.100.2:8080\n"
    report = {"version": 1, "serial": "C1", "status": "installed", "address": "192.168.101.2"}
    assert json.loads(text["etc/oci/installed-report.json"]) == report
    puppet_conf = "[main]\nserver = 192.168.100.2\nserverport = 8140\ncertname = cl1-controller-1.example.com\n"
    assert text["etc/puppet/puppet.conf"].endswith(puppet_conf)
    unit = text["etc/systemd/system/oci-report-installed.service"]
    assert "--cacert /etc/ssl/certs/oci-ca-chain.pem" in unit
    assert "@/etc/oci/installed-report.json http://192.168.100.2:8080/api/v1/status" in unit
    assert "After=network-online.target" in unit and plan.units == ("oci-report-installed.service", "oci-puppet-first-run.service")
    assert "curl" in plan.packages


def fingerprint(path: Path) -> str:
    return subprocess.run(["ssh-keygen", "-l", "-f", str(path)], capture_output=True, text=True, check=True).stdout.split()[1]


def test_the_host_certificate_is_the_clusters_for_the_nodes_names(enrol, tmp_path):
    site = enrol("C1")
    _, files = install.plan_for(site, "C1")
    certificate = files["etc/ssh/ssh_host_ed25519_key-cert.pub"].data.decode().strip()
    found = ssh.describe(certificate)
    assert found["type"] == "host"
    assert found["principals"] == ["cl1-controller-1.example.com", "cl1-controller-1", "192.168.101.2"]
    assert fingerprint(site.blob_path("ssh", "cluster-cl1", "host_ca.pub")) in found["signing_ca"]
    public = tmp_path / "host.pub"
    public.write_bytes(files["etc/ssh/ssh_host_ed25519_key.pub"].data)
    assert f"Public key: ED25519-CERT {fingerprint(public)}" in found["text"]
    assert files["etc/ssh/oci-user-ca.pub"].data.decode().strip() == ssh.public_ca(site, "cl1", "user_ca")
    drop_in = files["etc/ssh/sshd_config.d/oci-host-certificate.conf"].data.decode()
    assert "HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub\nTrustedUserCAKeys /etc/ssh/oci-user-ca.pub\n" in drop_in
    assert files["etc/ssh/ssh_known_hosts"].data.decode() == ssh.known_hosts_line(site, "cl1", "example.com") + "\n"


def test_the_network_files_are_oci_netconfs_byte_for_byte(enrol):
    site = enrol("C1", nics=[{"name": "eth0", "mac": "52:54:00:12:34:56"}, {"name": "eth1", "mac": "52:54:00:12:34:57"}])
    _, files = install.plan_for(site, "C1")
    rendered = netconf.plan(site, "C1").files
    assert set(rendered) == {"etc/hosts", "etc/network/interfaces", "etc/network/interfaces.d/oci"}
    assert {path: files[path].data for path in rendered} == {path: text.encode() for path, text in rendered.items()}
    env = {**os.environ, "OCI_STATE_DIR": str(site.root)}
    env.pop("OCI_CONFIG", None)
    printed = subprocess.run([REPO / "bin" / "oci-netconf", "--json", "C1"], env=env, capture_output=True, text=True, check=True)
    by_oci_netconf = {path: text.encode() for path, text in json.loads(printed.stdout)["files"].items()}
    assert by_oci_netconf == {path: files[path].data for path in rendered}


def private_keys(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()}


def test_no_secret_but_this_nodes_and_nothing_of_another_node(enrol):
    site = enrol("C1")
    enrol("C2", role="compute", address="192.168.100.21", nics=[{"name": "eth0", "mac": "52:54:00:12:34:99"}])
    other = "cl1-compute-1.example.com"
    fqdn = "cl1-controller-1.example.com"
    _, files = install.plan_for(site, "C1")
    with_keys = sorted(path for path, item in files.items() if b"PRIVATE KEY" in item.data)
    assert with_keys == ["etc/ssh/ssh_host_ed25519_key", f"etc/ssl/private/{fqdn}.key", f"var/lib/puppet/ssl/private_keys/{fqdn}.pem"]
    assert all(files[path].mode == 0o600 for path in with_keys)
    assert files[f"etc/ssl/private/{fqdn}.key"].data == (site.root / "pki" / "certs" / fqdn / "key.pem").read_bytes()
    # No private key of the state (the CAs', the master's, another node's) is in the bundle but this node's TLS key.
    puppet = site.config.puppet_confdir  # the Puppet CA's keys and the Puppet server's
    keys = {p: p.read_bytes() for d in (site.root, puppet) for p in d.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()}
    assert len(keys) >= 9  # root, intermediate, two nodes, the cluster's host and user CAs; Puppet's root, CA, server
    for path, key in keys.items():
        if path != site.root / "pki" / "certs" / fqdn / "key.pem":
            assert not any(key.strip() in item.data for item in files.values()), path
    others = [(site.root / "pki" / "certs" / other / name).read_bytes().strip() for name in ("key.pem", "cert.pem")]
    for path, item in files.items():
        assert other not in path and b"cl1-compute-1" not in item.data, path
        assert not any(material in item.data for material in others), path


def test_the_operators_extras(enrol, master):
    extras = master.config.install_extras_dir
    (extras / "clusters" / "cl1" / "files" / "etc" / "motd.d").mkdir(parents=True)
    (extras / "clusters" / "cl1" / "packages").write_text("# our tools\nvim, tmux\nhtop\n")
    (extras / "clusters" / "cl1" / "files" / "etc" / "motd.d" / "site").write_text("cluster\n")
    (extras / "machines" / "C1" / "files" / "etc" / "motd.d").mkdir(parents=True)
    (extras / "machines" / "C1" / "packages").write_text("tmux lldpd\n")
    (extras / "machines" / "C1" / "files" / "etc" / "motd.d" / "site").write_text("machine\n")
    secret = extras / "machines" / "C1" / "files" / "etc" / "site-secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o640)
    tool = extras / "clusters" / "cl1" / "files" / "usr" / "local" / "bin" / "site-tool"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o775)
    site = enrol("C1")
    plan, files = install.plan_for(site, "C1")
    assert plan.extra_packages == ("vim", "tmux", "htop", "lldpd")
    assert files["etc/motd.d/site"].data == b"machine\n"  # the machine's file replaces the cluster's
    assert (files["etc/site-secret"].mode, files["usr/local/bin/site-tool"].mode, files["etc/motd.d/site"].mode) == (0o640, 0o755, 0o644)
    assert "etc/site-secret" in plan.files
    before = state_files(site)
    bad_cases = [
        ("packages", "vim; rm -rf /\n", "is not a Debian package name"),
        ("files/etc/hosts", "x\n", "the operator's extra file /etc/hosts would replace a file OCI writes"),
        ("files/etc/fstab", "x\n", "the operator's extra file /etc/fstab would replace a file OCI writes"),  # the node renders it
        ("files/.ssh/authorized_keys", "x\n", "not a plain relative path"),
    ]
    for relative, content, message in bad_cases:
        path = extras / "machines" / "C1" / relative
        kept = path.read_bytes() if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        with pytest.raises(InvalidInput, match=message) as err:
            install.install_os(site, "C1")
        assert "\n" not in err.value.message
        if kept is None:
            path.unlink()
        else:
            path.write_bytes(kept)
    (extras / "machines" / "C1" / "files" / ".ssh").rmdir()
    link = extras / "machines" / "C1" / "files" / "etc" / "link"
    link.symlink_to("/etc/shadow")
    with pytest.raises(InvalidInput, match="only regular files and folders"):
        install.install_os(site, "C1")
    link.unlink()
    assert state_files(site) == before


def test_the_install_command_and_the_http_api(enrol):
    site = enrol("C1")
    shown = install.install_command(site, "C1")
    assert shown["command"] == "oci-install --bundle /run/oci-install/bundle.tar --log /var/log/oci-install.log"
    assert shown["summary"].startswith(
        "cl1-controller-1.example.com (controller in cl1): bios boot, root on vda, bookworm from http://192.168.100.2:3142/"
    )
    token = tokens.create(site, "ops", NOW)
    client = Client(site)
    status, reply = client.call("GET", "/api/v1/machines/C1/install-cmd", token=token)
    assert (status, reply["data"]) == (200, shown)
    before = state_files(site)
    status, reply = client.call("POST", "/api/v1/machines/C1/install-os", body={"dry_run": True}, token=token)
    assert status == 200 and reply["data"]["plan"] == describe(install.plan_for(site, "C1")[0])
    assert state_files(site) == before
    set_status(site, "C1", MachineStatus.INSTALLING)
    status, reply = client.call("POST", "/api/v1/machines/C1/install-os", body={}, token=token)
    assert (status, reply["message"]) == (409, "machine C1 is installing, not live")
    assert execute(site, "machine_display_install_cmd", {"machine": "cl1-controller-1.example.com"}) == shown


def test_ocicli_commands(enrol, capsys):
    site = enrol("C1")
    assert main(["machine-install-os", "--dry-run", "C1"], store_factory=lambda: site) == 0
    out = capsys.readouterr().out
    assert out == describe(install.plan_for(site, "C1")[0]) + "dry run: nothing was changed\n"
    assert main(["machine-display-install-cmd", "cl1-controller-1.example.com"], store_factory=lambda: site) == 0
    out = capsys.readouterr().out
    assert out.startswith("oci-install --bundle /run/oci-install/bundle.tar --log /var/log/oci-install.log\ncl1-controller-1.example.com (")
    machines.set_(site, "C1", {"dest_blk": "sdq"}, [])
    refused_in_one_line(site, capsys, ["machine-install-os", "C1"], "the machine has no disk sdq")
    refused_in_one_line(site, capsys, ["machine-install-os", "--dry-run", "C1"], "the machine has no disk sdq")


def test_systemd_takes_the_first_boot_unit(enrol, tmp_path):
    site = enrol("C1")
    _, files = install.plan_for(site, "C1")
    unit = tmp_path / install.FIRST_BOOT_UNIT
    unit.write_bytes(files[f"etc/systemd/system/{install.FIRST_BOOT_UNIT}"].data)
    checked = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert (checked.returncode, checked.stderr) == (0, "")
