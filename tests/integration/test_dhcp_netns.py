"""The rendered DHCP configuration served by the real isc-dhcp-server in a network namespace, and a real
DHCP client (busybox udhcpc) in another one: BIOS, UEFI and iPXE clients each get their boot file."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import REPO

HOOK = '#!/bin/sh\n[ "$1" = bound ] && echo "ip=$ip siaddr=$siaddr boot_file=$boot_file"\nexit 0\n'


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


@pytest.fixture
def segment(tmp_path):
    """Two namespaces joined by a veth pair: the master's side (10.251.0.1/24) and a booting machine's."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for tool in ("dhcpd", "busybox", "ip"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run make deps")
    tag = uuid.uuid4().hex[:6]
    srv, cli = f"oci-dh-s-{tag}", f"oci-dh-c-{tag}"
    sh("ip", "netns", "add", srv)
    try:
        sh("ip", "netns", "add", cli)
        sh("ip", "link", "add", f"ocis{tag}", "type", "veth", "peer", "name", f"ocic{tag}")
        sh("ip", "link", "set", f"ocis{tag}", "netns", srv)
        sh("ip", "link", "set", f"ocic{tag}", "netns", cli)
        sh("ip", "-n", srv, "addr", "add", "10.251.0.1/24", "dev", f"ocis{tag}")
        sh("ip", "-n", srv, "link", "set", f"ocis{tag}", "up")
        sh("ip", "-n", cli, "link", "set", f"ocic{tag}", "up")
        yield srv, cli, f"ocis{tag}", f"ocic{tag}"
    finally:
        subprocess.run(["ip", "netns", "del", cli], capture_output=True)
        subprocess.run(["ip", "netns", "del", srv], capture_output=True)


def test_rendered_dhcp_serves_each_kind_of_client(segment, tmp_path):
    srv, cli, srv_if, cli_if = segment
    conf = tmp_path / "oci.conf"
    conf.write_text("[network]\nprovisioning_network = 10.251.0.0/24\noci_ip = 10.251.0.1\ngateway = 10.251.0.1\n")
    env = {**os.environ, "OCI_CONFIG": str(conf), "OCI_STATE_DIR": str(tmp_path / "state")}
    target = tmp_path / "root"
    done = subprocess.run([str(REPO / "bin" / "oci-boot-render"), "--check", "--target", str(target)], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "srv/tftp/undionly.kpxe").stat().st_size > 10_000
    (tmp_path / "leases").touch()
    hook = tmp_path / "hook.sh"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    argv = ["ip", "netns", "exec", srv, "dhcpd", "-f", "-d", "-4", "-cf", str(target / "etc/dhcp/dhcpd.conf"),
            "-lf", str(tmp_path / "leases"), "-pf", str(tmp_path / "dhcpd.pid"), srv_if]  # fmt: skip
    dhcpd = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)

        def lease(*options: str) -> str:
            argv = ["ip", "netns", "exec", cli, "busybox", "udhcpc", "-i", cli_if, "-n", "-q", "-t", "5", "-T", "1", "-s", str(hook)]
            out = subprocess.run([*argv, *options], capture_output=True, text=True, timeout=30).stdout
            return next((line for line in out.splitlines() if line.startswith("ip=")), out)

        assert lease() == "ip=10.251.0.128 siaddr=10.251.0.1 boot_file=undionly.kpxe"  # BIOS PXE ROM
        assert lease("-x", "0x5d:0007") == "ip=10.251.0.128 siaddr=10.251.0.1 boot_file=ipxe.efi"  # UEFI x64
        assert lease("-x", "0x4d:69505845") == "ip=10.251.0.128 siaddr=10.251.0.1 boot_file=http://10.251.0.1:8080/boot/ipxe"  # "iPXE"
    finally:
        dhcpd.terminate()
        _, err = dhcpd.communicate(timeout=10)
    assert "DHCPACK on 10.251.0.128" in err
