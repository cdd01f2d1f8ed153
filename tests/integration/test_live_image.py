"""The live image: the live-build configuration live-build/build.sh writes (real lb config, a second or so),
its scripts and units; and, marked live_image, the image make live-image built (dist/live)."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

import pkgcache
from conftest import REPO
from oci.pki import ssh
from oci.store import Store

BUILD = REPO / "live-build" / "build.sh"
LIVE = Path(os.environ.get("OCI_LIVE_IMAGE_DIR", REPO / "dist" / "live"))
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"  # Debian's tools and interpreter, as make live-image runs it
UNITS = ("oci-discover.service", "oci-live-setup.service", "oci-live-host-key.service")
# What the issue asks the image to carry (the agent's Depends come with its .deb).
REQUIRED = {"live-boot", "openssh-server", "lldpd", "ipmitool", "dmidecode", "lshw", "ethtool", "mdadm", "python3", "python3-requests",
            "python3-yaml", "iproute2", "parted", "gdisk", "dosfstools", "e2fsprogs", "debootstrap", "busybox"}  # fmt: skip


def configure(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    if shutil.which("lb", path=SYSTEM_PATH) is None:
        pytest.fail("live-build is not installed: run make deps")
    state, debs, work = tmp_path / "state", tmp_path / "debs", tmp_path / "work"
    state.mkdir(exist_ok=True)
    debs.mkdir(exist_ok=True)
    for package in ("agent", "common"):
        (debs / f"openstack-cluster-installer-{package}_1.2.3-1_all.deb").write_bytes(package.encode())
    ours = ("PYTHONPATH", "OCI_CONFIG", "MASTER", "MIRROR", "FIRMWARE", "PACKAGE_CACHE")
    environ = {k: v for k, v in os.environ.items() if k not in ours}
    environ.update(PATH=SYSTEM_PATH, OCI_STATE_DIR=str(state), WORK=str(work), DEBS=str(debs), OCI_CONFIG=str(tmp_path / "none.conf"))
    (tmp_path / "none.conf").write_text("")
    environ.update(env)
    done = subprocess.run(["sh", str(BUILD), "config"], env=environ, capture_output=True, text=True, timeout=120)
    return done, work


def settings(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        found = re.fullmatch(r'(LB_\w+|APT_OPTIONS|DEBOOTSTRAP_OPTIONS)="(.*)"', line)
        if found:
            values[found[1]] = found[2]
    return values


def listed(work: Path) -> set[str]:
    names = set()
    for path in (work / "config" / "package-lists").glob("*.list.chroot"):
        names |= {w for w in path.read_text().split("\n") if w and not w.startswith("#")}
    return names


def test_config_writes_what_the_image_needs(tmp_path):
    done, work = configure(tmp_path, MASTER="10.0.0.1:8080")
    assert done.returncode == 0, done.stderr
    assert "master 10.0.0.1:8080" in done.stdout
    config = work / "config"
    lb = {**settings(config / "bootstrap"), **settings(config / "chroot"), **settings(config / "binary"), **settings(config / "common")}
    assert lb["LB_DISTRIBUTION"] == "bookworm"
    assert lb["LB_ARCHIVE_AREAS"] == "main"
    assert lb["LB_MIRROR_CHROOT"] == "http://deb.debian.org/debian"
    assert lb["LB_MIRROR_CHROOT_SECURITY"] == "http://deb.debian.org/debian-security"
    assert lb["LB_APT_RECOMMENDS"] == "false"
    assert lb["LB_FIRMWARE_CHROOT"] == "false"
    assert lb["LB_IMAGE_TYPE"] == "netboot"
    assert lb["LB_CACHE_PACKAGES"] == "true"  # cache/ keeps the .debs: a rebuild downloads nothing
    assert lb["DEBOOTSTRAP_OPTIONS"] == "--variant=minbase"

    packages = listed(work)
    assert packages >= REQUIRED
    assert not {"live-config", "live-config-systemd", "ifupdown", "isc-dhcp-client"} & packages  # networkd does DHCP; no live user
    assert sorted(p.name for p in (config / "includes.chroot_before_packages" / "root" / "oci-debs").iterdir()) == [
        "openstack-cluster-installer-agent_1.2.3-1_all.deb",
        "openstack-cluster-installer-common_1.2.3-1_all.deb",
    ]
    chroot = config / "includes.chroot"
    assert (chroot / "etc/oci/pxe-server-ip").read_text() == "10.0.0.1:8080\n"
    user_ca = ssh.public_ca(Store(tmp_path / "state"), None, "user_ca")  # created in the state dir by the build
    assert (chroot / "etc/ssh/oci-live-user-ca.pub").read_text() == user_ca + "\n"
    sshd = (chroot / "etc/ssh/sshd_config.d/oci-live.conf").read_text().splitlines()
    for line in ("Port 22", "TrustedUserCAKeys /etc/ssh/oci-live-user-ca.pub", "AuthorizedKeysFile none", "PasswordAuthentication no",
                 "HostKey /etc/ssh/ssh_host_ed25519_key", "PermitRootLogin prohibit-password"):  # fmt: skip
        assert line in sshd
    nodoc = (config / "includes.chroot_before_packages/etc/dpkg/dpkg.cfg.d/oci-live-nodoc").read_text()
    assert "path-exclude=/usr/share/doc/*" in nodoc
    assert "MODULES=netboot" in (config / "includes.chroot_before_packages/etc/initramfs-tools/conf.d/oci-live").read_text()
    assert (config / "rootfs" / "excludes").read_text().split() == ["boot/*"]  # served beside the squashfs, not in it
    hooks = sorted((config / "hooks" / "live").glob("*oci*"))
    expected = ["0050-oci-live-agent", "0100-oci-live-trim", "0900-oci-live-check"]  # the agent before the checks
    assert [h.name for h in hooks] == [f"{name}.hook.chroot" for name in expected]
    assert all(os.access(h, os.X_OK) for h in hooks)
    inputs = (work / "oci-inputs.txt").read_text()
    assert f"live_user_ca={' '.join(user_ca.split()[:2])}\n" in inputs
    assert re.search(r"^deb=openstack-cluster-installer-agent_1.2.3-1_all.deb sha256=[0-9a-f]{64}$", inputs, re.M)


def test_config_again_keeps_the_cache_and_follows_the_new_settings(tmp_path):
    done, work = configure(tmp_path, MASTER="10.0.0.1")
    assert done.returncode == 0, done.stderr
    (work / "cache" / "packages.chroot").mkdir(parents=True)
    (work / "cache" / "packages.chroot" / "x_1_all.deb").write_text("cached")
    done, work = configure(tmp_path, MASTER="", FIRMWARE="1", MIRROR="http://snapshot.debian.org/archive/debian/20261120T000000Z/")
    assert done.returncode == 0, done.stderr
    assert (work / "cache" / "packages.chroot" / "x_1_all.deb").read_text() == "cached"
    config = work / "config"
    assert not (config / "includes.chroot/etc/oci/pxe-server-ip").exists()  # none built in: oci.master= is needed
    lb = {**settings(config / "bootstrap"), **settings(config / "common")}
    assert lb["LB_MIRROR_CHROOT"] == "http://snapshot.debian.org/archive/debian/20261120T000000Z"
    assert lb["LB_MIRROR_CHROOT_SECURITY"] == "http://snapshot.debian.org/archive/debian-security/20261120T000000Z"
    assert lb["APT_OPTIONS"] == "--yes -o Acquire::Check-Valid-Until=false"
    assert lb["LB_ARCHIVE_AREAS"] == "main non-free-firmware"
    assert {"firmware-bnx2", "firmware-bnx2x"} <= listed(work)


def test_config_goes_through_the_masters_package_cache(tmp_path):
    """With the cache on and the master's address known, the image's sources name the master's apt-cacher-ng
    (a real one here), and so does the build, since the cache answers."""
    with pkgcache.running(tmp_path / "acng") as port:
        (tmp_path / "oci.conf").write_text(f"[network]\noci_ip = 127.0.0.1\n\n[install]\npackage_cache_port = {port}\n")
        done, work = configure(tmp_path, MASTER="", OCI_CONFIG=str(tmp_path / "oci.conf"))
    assert done.returncode == 0, done.stderr
    cache = f"http://127.0.0.1:{port}"
    assert f"through the package cache {cache}" in done.stdout
    lb = {**settings(work / "config" / "bootstrap"), **settings(work / "config" / "common")}
    for stage in ("BOOTSTRAP", "CHROOT", "BINARY"):
        assert lb[f"LB_MIRROR_{stage}"] == f"{cache}/deb.debian.org/debian"
    for stage in ("CHROOT", "BINARY"):
        assert lb[f"LB_MIRROR_{stage}_SECURITY"] == f"{cache}/deb.debian.org/debian-security"
    assert f"package_cache={cache}\n" in (work / "oci-inputs.txt").read_text()


def test_config_builds_from_the_mirror_when_the_cache_does_not_answer(tmp_path):
    """The image's sources still name the cache (the nodes will reach it); the build fetches from the mirror."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: nothing answers there
        done, work = configure(tmp_path, MASTER="", PACKAGE_CACHE=f"http://127.0.0.1:{port}")
    assert done.returncode == 0, done.stderr
    assert f"not through the package cache: http://127.0.0.1:{port} does not answer" in done.stdout
    lb = {**settings(work / "config" / "bootstrap"), **settings(work / "config" / "common")}
    assert lb["LB_MIRROR_BOOTSTRAP"] == lb["LB_MIRROR_CHROOT"] == "http://deb.debian.org/debian"
    assert lb["LB_MIRROR_BINARY"] == f"http://127.0.0.1:{port}/deb.debian.org/debian"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MASTER": "10.0.0.1;reboot"}, "MASTER=10.0.0.1;reboot is not HOST[:PORT]"),
        ({"PACKAGE_CACHE": "http://10.0.0.1:3142/x y"}, "PACKAGE_CACHE=http://10.0.0.1:3142/x y is not http://HOST:PORT"),
        ({"PACKAGE_CACHE": "ftp://10.0.0.1"}, "PACKAGE_CACHE=ftp://10.0.0.1 is not http://HOST:PORT"),
        ({"MIRROR": "http://mirror.example/pool"}, "cannot tell the security mirror of http://mirror.example/pool: set SECURITY_MIRROR"),
        ({"DEBS": "/nonexistent"}, "no openstack-cluster-installer-{agent,common} .deb in /nonexistent (run make deb)"),
        ({"OCI_STATE_DIR": "/nonexistent/state"}, "state directory /nonexistent/state does not exist"),
    ],
)
def test_config_refuses_bad_input_in_one_line(tmp_path, env, message):
    done, _ = configure(tmp_path, **env)
    assert done.returncode != 0
    assert message in done.stderr.splitlines()[0]


def test_scripts_parse():
    scripts = [BUILD, *(REPO / "live-build" / "config" / "hooks" / "live").glob("*.hook.chroot")]
    for script in scripts:
        done = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, f"{script}: {done.stderr}"


def test_units_run_the_shipped_command_in_order():
    private_links = (REPO / "debian" / "openstack-cluster-installer-common.links").read_text()
    shipped = (REPO / "debian" / "openstack-cluster-installer-agent.install").read_text()
    units = {}
    for name in UNITS:
        assert f"etc/systemd/{name} lib/systemd/system/" in shipped
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(REPO / "etc" / "systemd" / name)
        units[name] = parser
        assert parser["Install"]["WantedBy"] == "multi-user.target"
    for name in ("oci-live-setup.service", "oci-live-host-key.service"):
        command = units[name]["Service"]["ExecStart"].split()[0]
        assert f"/usr/share/openstack-cluster-installer/bin/ocicli {command}" in private_links
        assert units[name]["Unit"]["ConditionKernelCommandLine"] == "boot=live"
    setup = units["oci-live-setup.service"]
    assert units["oci-live-setup.service"]["Service"]["ExecStart"].endswith(" prepare")
    assert {"ssh.service", "oci-discover.service"} <= set(setup["Unit"]["Before"].split())
    sign = units["oci-live-host-key.service"]
    assert sign["Service"]["ExecStart"].endswith(" sign")
    assert {"network-online.target", "oci-discover.service"} <= set(sign["Unit"]["After"].split())
    assert sign["Service"]["Restart"] == "on-failure"


# ------------------------------------------------------------------------------------- the built image
def _image() -> Path:
    if not (LIVE / "filesystem.squashfs").exists():
        if os.environ.get("OCI_LIVE_IMAGE"):
            pytest.fail(f"no live image in {LIVE}: run make live-image")
        pytest.skip(f"no live image in {LIVE} (make live-image builds it; OCI_LIVE_IMAGE=1 makes its absence a failure)")
    if shutil.which("unsquashfs", path=SYSTEM_PATH) is None:
        pytest.fail("squashfs-tools is not installed: make live-image installs it")
    return LIVE


def _cat(image: Path, path: str) -> str:
    done = subprocess.run(["unsquashfs", "-cat", str(image / "filesystem.squashfs"), path], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{path}: {done.stderr}"
    return done.stdout


@pytest.mark.live_image
def test_built_image_files_and_manifest():
    image = _image()
    manifest = (image / "manifest.txt").read_text()
    files = dict(re.findall(r"^(vmlinuz|initrd\.img|filesystem\.squashfs) size=\d+ sha256=([0-9a-f]{64})$", manifest, re.M))
    assert set(files) == {"vmlinuz", "initrd.img", "filesystem.squashfs"}
    for name, digest in files.items():
        done = subprocess.run(["sha256sum", str(image / name)], capture_output=True, text=True, check=True)
        assert done.stdout.split()[0] == digest, name
    listed = dict(line.split("=", 1) for line in manifest.split("[packages]\n", 1)[1].splitlines())
    installed = {}
    for stanza in _cat(image, "var/lib/dpkg/status").split("\n\n"):
        fields = dict(re.findall(r"^([\w-]+): (.*)$", stanza, re.M))
        if fields.get("Status") == "install ok installed":
            arch = fields["Architecture"]
            qualified = fields["Package"] if arch == "all" or fields.get("Multi-Arch") != "same" else f"{fields['Package']}:{arch}"
            installed[qualified] = fields["Version"]
    assert listed == installed
    assert REQUIRED | {"openstack-cluster-installer-agent", "openstack-cluster-installer-common"} <= set(listed)


@pytest.mark.live_image
def test_built_image_runs_our_agent_with_ssh_and_units_enabled():
    image = _image()
    done = subprocess.run(["unsquashfs", "-l", str(image / "filesystem.squashfs")], capture_output=True, text=True, timeout=120, check=True)
    paths = {line.removeprefix("squashfs-root") for line in done.stdout.splitlines()}
    private = "/usr/share/openstack-cluster-installer"
    for path in (f"{private}/lib/oci/agent/daemon.py", f"{private}/lib/oci/agent/hostkey.py", "/usr/bin/oci-discover",
                 f"{private}/bin/oci-live-host-key", "/usr/sbin/sshd"):  # fmt: skip
        assert path in paths, path
    for unit in (*UNITS, "ssh.service", "lldpd.service", "systemd-networkd.service"):
        assert f"/etc/systemd/system/multi-user.target.wants/{unit}" in paths, f"{unit} not enabled"
    assert not [p for p in paths if p.startswith("/etc/ssh/ssh_host_")]  # each node makes its own
    assert not [p for p in paths if p.startswith("/boot/")]  # the kernel and initramfs are served beside it
    assert "TrustedUserCAKeys /etc/ssh/oci-live-user-ca.pub" in _cat(image, "etc/ssh/sshd_config.d/oci-live.conf")
    assert _cat(image, "etc/ssh/oci-live-user-ca.pub").startswith("ssh-ed25519 ")
    assert not [p for p in paths if p.startswith("/usr/share/man/") and not p.endswith("/man")]
