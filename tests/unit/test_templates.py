"""Templates (docs/templates.md): every shipped template is used, an operator's override replaces the shipped
one at every edge that renders (oci-boot-render, whose --check still runs the real dhcpd on the result, the
API's iPXE scripts, oci-netconf), and a template error is one ConfigError line naming the file and line.

The shipped templates themselves are covered by the golden files of test_boot.py and test_netconf.py."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

import pytest

from conftest import REPO
from oci import templates
from oci.agent import hostkey
from oci.boot import dhcp, ipxe, render
from oci.boot.site import BootSite
from oci.config import Config
from oci.errors import ConfigError, OciError
from oci.install import render as install_render
from oci.install.layout import DiskLayout
from oci.install.plan import BootMode, InstallPlan
from oci.model import Machine, MachineStatus
from oci.netconf import eni, hosts, service
from oci.netconf.model import HostNetwork, Physical
from oci.packagecache import apt_cacher_ng_conf
from oci.pocvms import plan as pocvms_plan
from oci.pocvms import render as pocvms_render
from oci.puppet import server as puppet_server
from oci.service import install, wipe
from oci.templates import SHIPPED_DIR, Templates
from wsgi_client import Client

SITE = BootSite.from_config(
    Config(
        provisioning_network=IPv4Network("10.251.0.0/24"),
        master_address=IPv4Address("10.251.0.1"),
        listen=("0.0.0.0", 8080),
    )
)
CONF = "[network]\nprovisioning_network = 10.251.0.0/24\noci_ip = 10.251.0.1\n[api]\nlisten = 0.0.0.0:8080\n"


class Recording(Templates):
    """The shipped templates, noting which ones the renderers ask for."""

    def __init__(self) -> None:
        super().__init__(None)
        self.used: set[str] = set()

    def render(self, name: str, variables: Mapping[str, object]) -> str:
        self.used.add(name)
        return super().render(name, variables)


def node_rendered(recording: Templates) -> None:
    """What oci-install renders on the node (tests/unit/test_install_node.py has their golden files)."""
    layout = DiskLayout(("sda", "sdb"), "1")
    plan = InstallPlan("C1", "h1.example.com", "cl1", "compute", BootMode.BIOS, layout, "bookworm", "http://m/debian",
                       "http://m/debian-security", ("grub-pc",), "http://m/api/v1/status")  # fmt: skip
    install_render.sfdisk_script(layout, recording)
    install_render.fstab("u1", "u2", recording)
    install_render.grub_default("ttyS0", recording)
    install_render.mdadm_conf("ARRAY /dev/md0 UUID=1:2:3:4", recording)
    install_render.apt_sources(plan, recording)
    install_render.policy_rc_d(recording)
    install_render.dpkg_unsafe_io(recording)
    install_render.hostname(plan.hostname, recording)


def test_every_shipped_template_is_used_by_a_renderer():
    recording = Recording()
    machine = Machine(serial="C1", status=MachineStatus.INSTALLED, first_seen=datetime(2026, 1, 1, tzinfo=UTC))
    nic = Physical(name="eth0", addresses=(IPv4Interface("10.0.0.5/24"),), mac="52:54:00:00:00:01")
    dhcp.render(SITE, recording)
    ipxe.entry_script(SITE, recording)
    ipxe.script(SITE, None, recording)
    ipxe.script(SITE, machine, recording)
    eni.render(HostNetwork("h1", (nic,)), recording)
    hosts.render("cl1", ["10.0.0.5 h1.example.com h1"], recording)
    hostkey.sshd_drop_in(Path("/etc/ssh/ssh_host_ed25519_key-cert.pub"), recording)
    install.first_boot_unit("http://10.251.0.1:8080/api/v1/status", recording)
    install.puppet_conf("10.251.0.1", 8140, "h1.example.com", recording)
    install.sshd_drop_in(recording)
    install.puppet_run_unit(recording)
    install.puppet_run_script("http://10.251.0.1:8080/api/v1/status", 3, 3600, recording)
    puppet_server.render(puppet_server.settings_for(Config(), "token", "oci.example.com"), recording)
    node_rendered(recording)
    apt_cacher_ng_conf(Path("/var/cache/oci-poc/apt-cacher-ng"), Path("/tmp/acng"), "127.0.0.1", 3142, Path("/tmp/acng/socket"), recording)
    vm = pocvms_plan.plan(1).vms[0]
    pocvms_render.ipmi_sim_config(vm, Path("/var/lib/oci-poc/vms/vm1/chassis-control"), recording)
    pocvms_render.chassis_hook(vm, Path("/var/lib/oci-poc/vms/vm1"), recording)
    wipe.script("C1", [{"path": "/dev/sda", "bytes": 10**12, "mib": 953674}], recording)
    shipped = {p.name for p in SHIPPED_DIR.iterdir()}
    assert recording.used == shipped, "a shipped template no renderer uses (or a renderer's template not shipped)"


def test_a_missing_variable_is_one_config_error_line_naming_the_template():
    with pytest.raises(ConfigError) as err:
        templates.shipped().render(dhcp.TEMPLATE, {"network_address": "10.0.0.0"})
    assert isinstance(err.value, OciError) and "\n" not in err.value.message
    assert err.value.message == f"template {SHIPPED_DIR / dhcp.TEMPLATE}:10: 'netmask' is undefined"
    assert err.value.hint is not None and "bug" in err.value.hint


def test_an_override_replaces_the_shipped_template_and_a_broken_one_is_a_clear_error(tmp_path):
    override = Templates(tmp_path)
    assert ipxe.entry_script(SITE, override) == ipxe.entry_script(SITE)  # nothing there yet: the shipped one
    (tmp_path / ipxe.ENTRY_TEMPLATE).write_text("#!ipxe\necho site {{ url }}\nchain {{ url }}/boot/ipxe?mac=${net0/mac}\n")
    # a running process sees a new override without a restart (the shipped template was cached above)
    assert (
        ipxe.entry_script(SITE, override)
        == "#!ipxe\necho site http://10.251.0.1:8080\nchain http://10.251.0.1:8080/boot/ipxe?mac=${net0/mac}\n"
    )
    assert override.path(ipxe.ENTRY_TEMPLATE) == tmp_path / ipxe.ENTRY_TEMPLATE
    assert override.path(ipxe.LIVE_TEMPLATE) == SHIPPED_DIR / ipxe.LIVE_TEMPLATE  # the others stay the shipped ones

    (tmp_path / ipxe.ENTRY_TEMPLATE).write_text("#!ipxe\n{% if url %}\nchain {{ url }}\n")  # unclosed block
    with pytest.raises(ConfigError) as err:
        ipxe.entry_script(SITE, override)
    assert err.value.message.startswith(f"template {tmp_path / ipxe.ENTRY_TEMPLATE}:") and "\n" not in err.value.message
    assert err.value.hint is not None and "override" in err.value.hint

    (tmp_path / ipxe.ENTRY_TEMPLATE).write_text("#!ipxe\nchain {{ url }}\necho {{ machine.serial }}\n")  # not given
    with pytest.raises(ConfigError) as err:
        ipxe.entry_script(SITE, override)
    assert err.value.message == f"template {tmp_path / ipxe.ENTRY_TEMPLATE}:3: 'machine' is undefined"

    (tmp_path / ipxe.ENTRY_TEMPLATE).unlink()
    assert ipxe.entry_script(SITE, override) == ipxe.entry_script(SITE)  # removed: the shipped one again


def test_one_environment_per_folder():
    assert templates.load(Path("/nonexistent")) is templates.load(Path("/nonexistent"))
    assert templates.shipped() is templates.load(None)


@pytest.fixture
def boot_conf(tmp_path, monkeypatch):
    """oci-boot-render's configuration, with an override folder (empty so far)."""
    folder = tmp_path / "templates"
    folder.mkdir()
    conf = tmp_path / "oci.conf"
    conf.write_text(CONF + f"[templates]\ndir = {folder}\n")
    monkeypatch.setenv("OCI_CONFIG", str(conf))
    ipxe_dir = tmp_path / "ipxe"
    ipxe_dir.mkdir()
    for name in render.IPXE_FILES:
        (ipxe_dir / name).write_bytes(b"binary " + name.encode())
    conf.write_text(conf.read_text().replace("[api]", f"[boot]\nipxe_dir = {ipxe_dir}\n[api]"))
    return folder


def test_oci_boot_render_uses_the_override_and_check_still_runs_dhcpd(boot_conf, tmp_path, capsys):
    if shutil.which("dhcpd") is None:
        pytest.fail("dhcpd (isc-dhcp-server) is not installed: run make deps")
    shipped = (SHIPPED_DIR / dhcp.TEMPLATE).read_text()
    (boot_conf / dhcp.TEMPLATE).write_text(shipped.replace("default-lease-time 600;", "default-lease-time 900;"))
    target = tmp_path / "root"
    assert render.main(["--target", str(target), "--check"]) == 0
    written = (target / render.DHCPD_CONF).read_text()
    assert "default-lease-time 900;" in written and "subnet 10.251.0.0 netmask 255.255.255.0 {" in written
    capsys.readouterr()

    # An override dhcpd refuses: --check stops it and the running configuration stays.
    (boot_conf / dhcp.TEMPLATE).write_text(shipped.replace("default-lease-time 600;", "default-lease-time;"))
    assert render.main(["--target", str(target), "--check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("oci-boot-render: error: dhcpd refuses the rendered configuration: ") and err.count("\n") == 1
    assert (target / render.DHCPD_CONF).read_text() == written

    # A broken template: one line naming the file and its line, nothing written.
    (boot_conf / dhcp.TEMPLATE).write_text(shipped.replace("{{ netmask }}", "{{ netmask "))
    assert render.main(["--target", str(target), "--check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"oci-boot-render: error: template {boot_conf / dhcp.TEMPLATE}:10: ") and err.count("\n") == 1
    assert (target / render.DHCPD_CONF).read_text() == written


def test_the_api_serves_ipxe_scripts_from_the_override(store, discover, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / ipxe.LIVE_TEMPLATE).write_text("#!ipxe\necho site image\nkernel {{ base }}/vmlinuz {{ kernel_args }} quiet\nboot\n")
    config = Config(
        state_dir=store.root,
        provisioning_network=IPv4Network("192.168.100.0/24"),
        master_address=IPv4Address("192.168.100.2"),
        listen=("0.0.0.0", 8080),
        templates_dir=folder,
    )
    store.config = config
    discover("C1", address="192.168.100.150")
    status, _, body = Client(store).request("GET", "/boot/ipxe?serial=C1&mac=", remote="192.168.100.150")
    assert status == 200
    assert body.decode().startswith("#!ipxe\necho site image\nkernel http://192.168.100.2:8080/boot/live/vmlinuz initrd=initrd.img ")
    assert body.decode().endswith(" quiet\nboot\n")


def test_oci_netconf_renders_hosts_and_interfaces_from_the_override(site, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / hosts.TEMPLATE).write_text("# site hosts of {{ cluster }}\n{% for line in lines %}{{ line }}\n{% endfor %}")
    site.config = replace(Config(state_dir=site.root, master_address=IPv4Address("192.168.100.1")), templates_dir=folder)
    files = service.plan(site, "C1").files
    assert files[hosts.PATH].startswith("# site hosts of cl1\n") and "OCISTA_MAINTAINED" not in files[hosts.PATH]
    site.config = replace(site.config, templates_dir=tmp_path / "none")
    assert "OCISTA_MAINTAINED" in service.plan(site, "C1").files[hosts.PATH]
    assert files[eni.HOST_FILE] == service.plan(site, "C1").files[eni.HOST_FILE]


def test_the_package_installs_the_templates_where_the_library_looks():
    """SHIPPED_DIR is <root>/share/templates for the library at <root>/lib/oci: in the package too."""
    install = (REPO / "debian" / "openstack-cluster-installer-common.install").read_text().splitlines()
    destinations = dict(line.split() for line in install if line.strip())
    assert SHIPPED_DIR == REPO / "share" / "templates"
    assert destinations["lib/oci"] + "oci" == "usr/share/openstack-cluster-installer/lib/oci"
    assert destinations["share/templates"] + "templates" == "usr/share/openstack-cluster-installer/share/templates"
