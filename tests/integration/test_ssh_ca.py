"""SSH CAs with the real tools: ssh-keygen -L on signed keys, then ssh to a local sshd that presents a
host certificate and trusts the cluster's user CA."""

from __future__ import annotations

import os
import subprocess
import time
from ipaddress import IPv4Address

import pytest

from conftest import NOW, free_port, report_body, ssh_keygen
from oci.pki import ssh
from oci.report import v1
from oci.service import clusters, machines, networks, reports, status, topology
from wsgi_client import Client


@pytest.fixture
def cluster(store, discover):
    topology.region_create(store, "r1")
    topology.location_create(store, "loc1", "r1")
    networks.create(store, "net1", "192.168.101.0", "24", "loc1", "no")
    clusters.create(store, "cl1", "example.com")
    networks.add(store, "net1", "cl1", "all", "eth0")
    discover("C1")
    machines.add(store, "C1", "cl1", "controller", "loc1")
    return store


def test_cluster_cas_are_created_private_and_published(cluster):
    folder = cluster.root / "ssh" / "cluster-cl1"
    assert oct((folder / "host_ca").stat().st_mode & 0o777) == "0o600"
    assert oct((folder / "user_ca").stat().st_mode & 0o777) == "0o600"
    line = ssh.known_hosts_line(cluster, "cl1", "example.com")
    assert line.startswith("@cert-authority *.example.com ssh-ed25519 ")


def test_signed_host_key_shows_principals_and_ca(cluster, tmp_path):
    public = ssh_keygen(tmp_path / "host")
    cert = ssh.sign(cluster, "cl1", public, "oci-host-C1", ["cl1-controller-1.example.com", "cl1-controller-1", "192.168.101.2"])
    seen = ssh.describe(cert)
    assert seen["type"] == "host"
    assert seen["principals"] == ["cl1-controller-1.example.com", "cl1-controller-1", "192.168.101.2"]
    assert seen["signing_ca"].startswith("ED25519 SHA256:")
    with pytest.raises(Exception, match="not an OpenSSH public key"):
        ssh.sign(cluster, "cl1", "ssh-ed25519 AAAA; rm -rf /", "x", ["a"])


def test_live_node_gets_its_host_key_signed_only_from_its_own_address(cluster, tmp_path):
    client = Client(cluster)
    public = ssh_keygen(tmp_path / "live")
    reports.record(cluster, v1.parse(report_body("C9")), IPv4Address("192.168.100.30"), NOW)
    code, reply = client.post_json("/api/v1/ssh/host-key", {"serial": "C9", "public_key": public}, remote="192.168.100.30")
    assert code == 200, reply
    seen = ssh.describe(reply["data"]["certificate"])
    assert seen["principals"] == ["c9.oci-debian-live", "192.168.100.30"]
    assert reply["data"]["ca"] == ssh.public_ca(cluster, None)  # the live-image CA, not a cluster's
    code, reply = client.post_json("/api/v1/ssh/host-key", {"serial": "C9", "public_key": public}, remote="192.168.100.31")
    assert code == 409 and "192.168.100.31 is not an address of machine C9" in reply["message"]
    code, reply = client.post_json("/api/v1/ssh/host-key", {"serial": "NOPE", "public_key": public}, remote="192.168.100.30")
    assert code == 404
    status.record(cluster, "C1", "installed", IPv4Address("192.168.101.2"), NOW)
    code, reply = client.post_json("/api/v1/ssh/host-key", {"serial": "C1", "public_key": public}, remote="192.168.101.2")
    assert code == 200, reply
    assert ssh.describe(reply["data"]["certificate"])["principals"] == ["cl1-controller-1.example.com", "cl1-controller-1", "192.168.101.2"]


def test_ssh_to_a_local_sshd_with_host_and_user_certificates(cluster, tmp_path):
    if not os.path.exists("/usr/sbin/sshd"):
        pytest.fail("openssh-server is not installed: run make deps")
    host_public = ssh_keygen(tmp_path / "host_key")
    (tmp_path / "host_key-cert.pub").write_text(
        ssh.sign(cluster, "cl1", host_public, "oci-host-C1", ["127.0.0.1", "cl1-controller-1.example.com"]) + "\n"
    )
    user_public = ssh_keygen(tmp_path / "operator")
    (tmp_path / "operator-cert.pub").write_text(ssh.sign(cluster, "cl1", user_public, "alice", ["root"], host=False) + "\n")
    (tmp_path / "user_ca.pub").write_text(ssh.public_ca(cluster, "cl1", "user_ca") + "\n")
    (tmp_path / "known_hosts").write_text(f"@cert-authority 127.0.0.1,*.example.com {ssh.public_ca(cluster, 'cl1')}\n")
    port = free_port()
    config = tmp_path / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp_path / 'host_key'}\nHostCertificate {tmp_path / 'host_key-cert.pub'}\n"
        f"TrustedUserCAKeys {tmp_path / 'user_ca.pub'}\nAuthorizedKeysFile none\nPasswordAuthentication no\n"
        f"KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUsePAM no\nPidFile {tmp_path / 'sshd.pid'}\n"
        "StrictModes no\n"
    )
    os.makedirs("/run/sshd", exist_ok=True)
    sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        argv = ["ssh", "-p", str(port), "-i", str(tmp_path / "operator"), "-o", f"UserKnownHostsFile={tmp_path / 'known_hosts'}",
                "-o", "StrictHostKeyChecking=yes", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "IdentitiesOnly=yes", "-F", "/dev/null", "root@127.0.0.1", "echo", "connected"]  # fmt: skip
        deadline = time.monotonic() + 15
        while True:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            if done.returncode == 0 or time.monotonic() > deadline or "Connection refused" not in done.stderr:
                break
            time.sleep(0.2)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "connected"
        # The same server with a host key no CA signed is refused by the same client.
        ssh.ensure_cas(cluster, None)
        (tmp_path / "known_hosts").write_text(f"@cert-authority 127.0.0.1 {ssh.public_ca(cluster, None)}\n")  # another CA
        refused = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert refused.returncode != 0 and "Host key verification failed" in refused.stderr
    finally:
        sshd.terminate()
        sshd.communicate(timeout=10)


def test_oci_pki_ssh_commands(cluster, tmp_path):
    from conftest import REPO

    env = {**os.environ, "OCI_STATE_DIR": str(cluster.root)}
    env.pop("OCI_CONFIG", None)
    pki = [str(REPO / "bin" / "oci-pki")]
    line = subprocess.run([*pki, "ssh-known-hosts", "cl1"], env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert line == ssh.known_hosts_line(cluster, "cl1", "example.com")
    ssh_keygen(tmp_path / "me")
    signed = subprocess.run([*pki, "ssh-sign-user", "cl1", str(tmp_path / "me.pub"), "--identity", "alice"], env=env,
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    seen = ssh.describe(signed)
    assert (seen["type"], seen["principals"]) == ("user", ["root"])
    missing = subprocess.run([*pki, "ssh-known-hosts", "nope"], env=env, capture_output=True, text=True)
    assert missing.returncode == 1 and "no cluster named 'nope'" in missing.stderr
