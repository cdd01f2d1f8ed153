"""Boot services: the DHCP configuration (golden file, then the real dhcpd's parser), the iPXE decision for
every status, and the live image files, through the API in-process."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from conftest import REPO
from oci.boot import dhcp, render
from oci.boot.site import BootSite
from oci.config import Config
from oci.errors import ConfigError, InvalidInput
from oci.model import Machine, MachineStatus
from oci.store import Store
from wsgi_client import Client

GOLDEN = REPO / "tests" / "data" / "golden" / "boot"
SITE_CONFIG = Config(
    provisioning_network=IPv4Network("192.168.100.0/24"),
    master_address=IPv4Address("192.168.100.2"),
    gateway=IPv4Address("192.168.100.1"),
    dns_servers=(IPv4Address("192.168.100.2"), IPv4Address("9.9.9.9")),
    listen=("0.0.0.0", 8080),
)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_dhcpd_configuration_matches_golden_and_dhcpd_accepts_it():
    text = dhcp.render(BootSite.from_config(SITE_CONFIG))
    golden("dhcpd.conf", text)
    if shutil.which("dhcpd") is None:
        pytest.fail("dhcpd (isc-dhcp-server) is not installed: run make deps")
    render.check_dhcpd(text)
    minimal = dhcp.render(BootSite.from_config(replace(SITE_CONFIG, gateway=None, dns_servers=(), dhcp_range=None)))
    assert "range 192.168.100.128 192.168.100.254;" in minimal and "routers" not in minimal
    render.check_dhcpd(minimal)


def test_dhcpd_refusal_is_one_clear_line():
    with pytest.raises(ConfigError) as err:
        render.check_dhcpd("subnet 10.0.0.0 netmask 255.255.255.0 { range 10.0.0.9 }\n")
    assert err.value.message.startswith("dhcpd refuses the rendered configuration: ")
    assert "\n" not in err.value.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"provisioning_network": None}, "the provisioning network is not configured"),
        ({"master_address": IPv4Address("10.0.0.1")}, "is not in the provisioning network"),
        ({"dhcp_range": (IPv4Address("192.168.100.1"), IPv4Address("192.168.100.9"))}, "contains the master's address"),
        ({"dhcp_range": (IPv4Address("192.168.100.200"), IPv4Address("192.168.101.9"))}, "is not a host address"),
        ({"gateway": IPv4Address("10.1.1.1")}, "gateway 10.1.1.1 is not in"),
    ],
)
def test_bad_boot_settings_are_refused(change, message):
    with pytest.raises(ConfigError, match=message):
        BootSite.from_config(replace(SITE_CONFIG, **change))


def test_render_writes_the_tftp_first_stage_and_only_what_changed(tmp_path):
    ipxe_dir = tmp_path / "ipxe"
    ipxe_dir.mkdir()
    for name in render.IPXE_FILES:
        (ipxe_dir / name).write_bytes(b"binary " + name.encode())
    site = BootSite.from_config(SITE_CONFIG)
    target = tmp_path / "root"
    written = render.write(target, render.files(site, ipxe_dir), check=True)
    assert sorted(p.relative_to(target).as_posix() for p in written) == [
        "etc/dhcp/dhcpd.conf",
        "srv/tftp/ipxe.efi",
        "srv/tftp/undionly.kpxe",
    ]
    assert render.write(target, render.files(site, ipxe_dir), check=True) == []
    (ipxe_dir / "ipxe.efi").unlink()
    with pytest.raises(ConfigError, match="ipxe.efi is missing"):
        render.files(site, ipxe_dir)


def test_render_refuses_a_link_out_of_the_target_and_writes_nothing(tmp_path):
    ipxe_dir = tmp_path / "ipxe"
    ipxe_dir.mkdir()
    for name in render.IPXE_FILES:
        (ipxe_dir / name).write_bytes(b"binary")
    target, outside = tmp_path / "root", tmp_path / "outside"
    (target / "srv").mkdir(parents=True)
    outside.mkdir()
    (target / "srv" / "tftp").symlink_to(outside)  # netconf/target's checked writer: every path checked first
    with pytest.raises(InvalidInput, match="a symbolic link under .* leads out of it"):
        render.write(target, render.files(BootSite.from_config(SITE_CONFIG), ipxe_dir), check=False)
    assert list(outside.iterdir()) == [] and not (target / "etc").exists()


@pytest.fixture
def booting(tmp_path, discover, store):
    """A store whose configuration has a provisioning network and a live image folder; C1 reported from .20."""
    live = tmp_path / "live"
    live.mkdir()
    (live / "vmlinuz").write_bytes(b"kernel")
    site_store = Store(store.root, lock_timeout=10, config=replace(SITE_CONFIG, state_dir=store.root, live_dir=live))
    discover("C1", address="192.168.100.150", nics=[{"name": "eno1", "mac": "24:6e:96:aa:bb:01", "speed_mbps": 10000}])
    return Client(site_store), site_store


def text(client, path, remote="192.168.100.150"):
    status, headers, body = client.request("GET", path, remote=remote)
    return status, body.decode()


def set_status(store, serial, status):
    machine = store.get(Machine, serial)
    with store.machine_lock([serial]):
        store.write_machine(replace(machine, status=status))


def test_ipxe_entry_script_asks_again_with_mac_and_serial(booting):
    client, _ = booting
    status, body = text(client, "/boot/ipxe")
    assert status == 200
    assert body == "#!ipxe\nchain http://192.168.100.2:8080/boot/ipxe?mac=${net0/mac}&serial=${serial:uristring}\n"


@pytest.mark.parametrize(
    ("status", "boot"),
    [
        (MachineStatus.LIVE, "live"),
        (MachineStatus.BOOTINGLIVE, "live"),
        (MachineStatus.INSTALLING, "disk"),
        (MachineStatus.FIRSTBOOT, "disk"),
        (MachineStatus.INSTALLED, "disk"),
    ],
)
def test_ipxe_script_for_each_status(booting, status, boot):
    client, store = booting
    set_status(store, "C1", status)
    for query in ("serial=C1&mac=00:00:00:00:00:00", "mac=24:6E:96:AA:BB:01&serial=", "mac=00:00:00:00:00:01&serial=Default%20string"):
        code, body = text(client, f"/boot/ipxe?{query}")
        assert code == 200
        assert ("booting from its disk" in body) == (boot == "disk"), query
    golden(f"ipxe-{boot}.ipxe", body)


def test_an_unknown_machine_gets_the_live_image(booting):
    client, _ = booting
    code, body = text(client, "/boot/ipxe?mac=52:54:00:99:99:99&serial=NEW1", remote="192.168.100.151")
    assert code == 200 and "boot=live" in body and "fetch=http://192.168.100.2:8080/boot/live/filesystem.squashfs" in body


def test_live_files_are_served_to_trusted_networks_only(booting):
    client, _ = booting
    status, headers, body = client.request("GET", "/boot/live/vmlinuz", remote="192.168.100.150")
    assert (status, body) == (200, b"kernel")
    assert client.request("GET", "/boot/live/initrd.img", remote="192.168.100.150")[0] == 404
    assert client.request("GET", "/boot/live/..%2Fsecrets", remote="192.168.100.150")[0] == 404
    assert client.request("GET", "/boot/live/vmlinuz", remote="203.0.113.9")[0] == 403
    assert client.request("GET", "/boot/ipxe", remote="203.0.113.9")[0] == 403


def test_boot_routes_without_a_provisioning_network_say_so(store):
    status, _, body = Client(store).request("GET", "/boot/ipxe", remote="127.0.0.1")
    assert status == 503 and b"the provisioning network is not configured" in body


def test_cli_prints_and_checks(tmp_path, monkeypatch, capsys):
    conf = tmp_path / "oci.conf"
    conf.write_text("[network]\nprovisioning_network = 10.251.0.0/24\noci_ip = 10.251.0.1\n[api]\nlisten = 0.0.0.0:8080\n")
    monkeypatch.setenv("OCI_CONFIG", str(conf))
    assert render.main(["--print", "--check"]) == 0
    assert 'filename "http://10.251.0.1:8080/boot/ipxe";' in capsys.readouterr().out
    conf.write_text("[network]\nprovisioning_network = 10.251.0.0/24\noci_ip = 10.9.9.9\n")
    assert render.main(["--target", str(tmp_path / "t")]) == 1
    assert "is not in the provisioning network" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()
    assert Path(REPO / "bin" / "oci-boot-render").resolve().name == "ocicli"
