"""oci-install onto a real disk: an 8 GiB sparse file on a loop device, BIOS mode, from a warm package cache
(tests/pkgcache.py: apt-cacher-ng, whose cache outlives the run; the first run of a fresh machine fills it).

``test_a_full_install`` installs the bundle the master makes for C1 (service/install.plan_for: its real
files, certificates and SSH host key included; only the disk, the mirrors and the reporting address are
this test's), runs every real step, then mounts the target again read-only and checks what an installed
machine needs: partitions, fstab by UUID, grub, the network files byte for byte as oci-netconf writes them,
the node's certificate trusted and its key 0600, the SSH host key certified by the cluster's host CA,
puppet.conf, the first-boot unit enabled, apt pointing at the cache.

``test_a_failure_at_each_step_is_torn_down`` fails each step in turn, after its real action, and checks
that nothing stays mounted, no partition mapping is left and the failed step is reported with its line.
Running debootstrap and apt 13 times would take half an hour, so in that test only (the full install
above proves the real ones): debootstrap is replaced by unpacking a minimal tree the real debootstrap step
made once for the module, and packages and bootloader, which need the full system, by their first
(cheap) part: the apt sources, and grub's defaults file.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from ipaddress import IPv4Address
from pathlib import Path

import pytest

import pkgcache
from conftest import Recorder
from oci import templates
from oci.config import Config
from oci.install import bundle, main, render, steps
from oci.install import plan as install_plan
from oci.install.layout import DiskLayout
from oci.install.plan import BootMode, InstallPlan, NetworkNeeds, packages_for
from oci.install.runner import Step
from oci.netconf import service
from oci.netconf.target import write_files
from oci.pki import ssh
from oci.service import install
from oci.store import Store

pytestmark = pytest.mark.slow
DISK_BYTES = 8 << 30
UNIT = "oci-test-firstboot.service"
UNIT_TEXT = "[Unit]\nDescription=test unit\n[Service]\nType=oneshot\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"
KEY, CERT = "etc/ssl/private/node.key", "usr/local/share/ca-certificates/oci-ca.crt"


def sh(*argv: str, input_text: str | None = None) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, input=input_text).stdout


def mounts_under(path: Path) -> list[str]:
    return [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines() if line.split()[1].startswith(str(path))]


def partitions_of(disk: str) -> list[str]:
    return sorted(p.name for p in Path("/sys/class/block", disk).iterdir() if (p / "partition").is_file())


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with pkgcache.running(tmp_path_factory.mktemp("pkgcache")) as port:
        yield port


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[str]:
    """A loop device over a sparse 8 GiB file; afterwards nothing of it is left (checked)."""
    image = tmp_path / "disk.img"
    with image.open("wb") as f:
        f.truncate(DISK_BYTES)
    device = sh("losetup", "--show", "-f", str(image)).strip()
    name = Path(device).name
    try:
        yield name
    finally:
        for where in reversed(mounts_under(tmp_path)):  # only what a failed check left: the installer leaves nothing
            subprocess.run(["umount", "--lazy", where], check=False)
        if partitions_of(name):
            subprocess.run(["partx", "--delete", device], check=False)
        subprocess.run(["losetup", "-d", device], check=True)
        # A program probing devices (udev, another test's lsblk) may hold it a moment: it goes when they close it.
        deadline = time.monotonic() + 60
        while sh("losetup", "-j", str(image)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sh("losetup", "-j", str(image)) == ""


def make_plan(disk: str, port: int) -> InstallPlan:
    layout = DiskLayout((disk,))
    return InstallPlan(
        serial="C1",
        hostname="cl1-controller-1.example.com",
        cluster="cl1",
        role="controller",
        boot=BootMode.BIOS,
        layout=layout,
        release="bookworm",
        mirror=pkgcache.mirror(port),
        security_mirror=pkgcache.security_mirror(port),
        packages=packages_for(BootMode.BIOS, False, layout, NetworkNeeds()),
        status_url="http://127.0.0.1:1/api/v1/status",
        units=(UNIT,),
        reboot=False,
    )


def bundle_files(site) -> tuple[dict[str, bundle.BundleFile], dict[str, str]]:
    """The bundle's files (network and hosts files made by oci-netconf's code, a certificate, a key, a unit)
    and the network files alone."""
    network = service.plan(site, "C1").files
    files = {path: bundle.BundleFile(text.encode()) for path, text in network.items()}
    files[CERT] = bundle.BundleFile(sh("openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", "/dev/null",
                                       "-subj", "/CN=oci-test-ca", "-days", "1").encode())  # fmt: skip
    files[KEY] = bundle.BundleFile(b"-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n", 0o600)
    files[f"etc/systemd/system/{UNIT}"] = bundle.BundleFile(UNIT_TEXT.encode())
    return files, network


@pytest.fixture
def readonly(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """mount(device) -> the folder it is mounted on read-only, unmounted at the end."""
    mounted: list[Path] = []

    def mount(device: str) -> Path:
        where = tmp_path / f"check-{len(mounted)}"
        where.mkdir()
        sh("mount", "-o", "ro", device, str(where))
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        sh("umount", str(where))


@pytest.fixture
def master_bundle(site, tmp_path: Path, puppet_ca: Path) -> Callable[[str, int], tuple[InstallPlan, dict[str, bundle.BundleFile]]]:
    """(disk, cache port) -> C1's plan and bundle files as machine-install-os makes them, for this disk and cache."""
    config = Config(state_dir=site.root, master_address=IPv4Address("192.168.100.2"), listen=("0.0.0.0", 8080),
                    templates_dir=tmp_path / "no-overrides", install_extras_dir=tmp_path / "no-extras",
                    puppet_confdir=puppet_ca)  # fmt: skip
    master = Store(site.root, lock_timeout=10, config=config)

    def make(disk: str, port: int) -> tuple[InstallPlan, dict[str, bundle.BundleFile]]:
        plan, files = install.plan_for(master, "C1")
        assert plan.boot is BootMode.BIOS and plan.layout == DiskLayout(("vda",))
        local = replace(plan, layout=DiskLayout((disk,)), mirror=pkgcache.mirror(port), security_mirror=pkgcache.security_mirror(port),
                        status_url="http://127.0.0.1:1/api/v1/status", reboot=False)  # fmt: skip
        return local, files

    return make


def test_a_full_install(site, cache, disk, tmp_path, readonly, master_bundle):
    plan, files = master_bundle(disk, cache)
    recorder = Recorder()
    assert (
        main.install(bundle.pack(plan, files), reporter=recorder, mount_base=tmp_path / "mnt", reboot=False, templates_dir=None) == 0
    ), recorder.calls
    names = [s.name for s in steps.steps(plan)]
    assert [c[1] for c in recorder.calls if c[0] == "ended"] == names
    assert recorder.calls[-1] == ("finished",)
    print("step durations:", {c[1]: c[2] for c in recorder.calls if c[0] == "ended"})
    assert mounts_under(tmp_path / "mnt") == [] and list((tmp_path / "mnt").iterdir()) == []

    table = json.loads(sh("sfdisk", "--json", f"/dev/{disk}"))["partitiontable"]
    assert table["label"] == "gpt"
    assert [p["type"] for p in table["partitions"]] == [p.type_guid for p in plan.layout.partitions]
    root_uuid = sh("blkid", "-p", "-s", "UUID", "-o", "value", f"/dev/{disk}p3").strip()
    esp_uuid = sh("blkid", "-p", "-s", "UUID", "-o", "value", f"/dev/{disk}p2").strip()
    root = readonly(f"/dev/{disk}p3")
    assert (root / "etc/fstab").read_text() == render.fstab(root_uuid, esp_uuid)
    grub_cfg = (root / "boot/grub/grub.cfg").read_text()
    assert root_uuid in grub_cfg and "vmlinuz" in grub_cfg
    assert (root / "etc/default/grub.d/oci.cfg").read_text() == render.grub_default(plan.serial_console)
    with open(f"/dev/{disk}", "rb") as raw:
        assert b"GRUB" in raw.read(512)  # grub's boot code in the MBR
    with open(f"/dev/{disk}p1", "rb") as core:
        assert core.read(512).strip(b"\0")  # its core image in the BIOS boot partition
    # Every bundle file at its mode; the network files are oci-netconf's, byte for byte.
    for path, item in files.items():
        assert ((root / path).read_bytes(), (root / path).stat().st_mode & 0o777) == (item.data, item.mode), path
    network = service.plan(site, "C1").files
    assert network and all((root / path).read_text() == text for path, text in network.items())
    fqdn = "cl1-controller-1.example.com"
    assert (root / f"etc/ssl/private/{fqdn}.key").stat().st_mode & 0o777 == 0o600
    trusted = sh("openssl", "verify", "-CAfile", str(root / "etc/ssl/certs/ca-certificates.crt"), str(root / f"etc/ssl/certs/{fqdn}.pem"))
    assert trusted.strip().endswith(": OK")  # the OCI CA is in the installed system's trust store
    certificate = sh("ssh-keygen", "-L", "-f", str(root / f"{install.HOST_KEY}-cert.pub"))
    assert "host certificate" in certificate and fqdn in certificate
    host_ca = sh("ssh-keygen", "-lf", "-", input_text=ssh.public_ca(site, "cl1") + "\n").split()[1]
    assert f"Signing CA: ED25519 {host_ca}" in certificate, "signed by the cluster's host CA"
    assert f"certname = {fqdn}" in (root / "etc/puppet/puppet.conf").read_text()
    assert (root / f"etc/systemd/system/multi-user.target.wants/{install.FIRST_BOOT_UNIT}").is_symlink()
    assert (root / "usr/bin/puppet").exists() and (root / "usr/bin/curl").exists() and list((root / "boot").glob("vmlinuz-*"))
    assert (root / "etc/apt/sources.list").read_text() == render.apt_sources(plan)
    assert (root / "etc/hostname").read_text() == "cl1-controller-1\n"
    assert not (root / install_plan.POLICY_PATH).exists()
    assert not (root / install_plan.UNSAFE_IO_PATH).exists()  # the installed system's dpkg syncs again
    assert not list((root / "var/cache/apt/archives").glob("*.deb"))


@pytest.fixture(scope="module")
def minimal_tree(cache: int, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tarball of what the real debootstrap step makes (minbase), made once for the module."""
    folder = tmp_path_factory.mktemp("debootstrap")
    tree = folder / "tree"
    tree.mkdir()
    plan = make_plan("unused", cache)
    steps.debootstrap(steps.Context(plan, {}, tree, templates.shipped()))
    archive = folder / "tree.tar"
    subprocess.run(["tar", "-C", str(tree), "-cf", str(archive), "."], check=True)
    subprocess.run(["rm", "-rf", "--one-file-system", str(tree)], check=True)
    return archive


def replaced(minimal: Path) -> dict[str, Step[steps.Context]]:
    """The test-only stand-ins (module docstring): each does the cheap first part of the real step."""

    def unpack(context: steps.Context) -> None:
        subprocess.run(["tar", "-C", str(context.target), "-xf", str(minimal)], check=True)

    def sources(context: steps.Context) -> None:
        write_files(context.target, {install_plan.SOURCES_PATH: render.apt_sources(context.plan).encode()})

    def grub_defaults(context: steps.Context) -> None:
        write_files(context.target, {install_plan.GRUB_PATH: render.grub_default(context.plan.serial_console).encode()})

    return {
        "debootstrap": Step("debootstrap", unpack),
        "packages": Step("packages", sources),
        "bootloader": Step("bootloader", grub_defaults),
    }


STEP_NAMES = [s.name for s in steps.steps(make_plan("sda", 1))]


@pytest.mark.parametrize("failing", STEP_NAMES)
def test_a_failure_at_each_step_is_torn_down(site, cache, minimal_tree, disk, tmp_path, failing):
    plan = make_plan(disk, cache)
    files, _ = bundle_files(site)
    del files[CERT]  # update-ca-certificates is not in the minimal tree (the full install runs it)
    stand_ins = replaced(minimal_tree)
    step_list = []
    for step in steps.steps(plan):
        step = stand_ins.get(step.name, step)
        if step.name == failing:

            def fail(context: steps.Context, action=step.action) -> None:
                action(context)  # the whole step done, then a failure: its teardown must undo all of it
                raise OSError(f"injected failure at {failing}")

            step = Step(step.name, fail, step.teardown)
        step_list.append(step)
    recorder = Recorder()
    assert (
        main.install(bundle.pack(plan, files), reporter=recorder, mount_base=tmp_path / "mnt", step_list=step_list, templates_dir=None) == 1
    )
    assert recorder.calls[-1] == ("failed", failing, f"injected failure at {failing}")
    assert ("finished",) not in recorder.calls
    assert mounts_under(tmp_path) == []
    assert list((tmp_path / "mnt").iterdir()) == []
    assert partitions_of(disk) == []
