"""machine-install-log against a real sshd node: an sshd on loopback that holds a live-CA host certificate
and trusts the live user CA, as the live image runs it, in a mount namespace of its own whose /var/log is a
folder of the test, so the log the installer would write there is a file the test writes and grows."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime
from ipaddress import IPv4Address

import pytest

import sshnode
from conftest import NOW, REPO, free_port
from oci.errors import Conflict, InvalidInput
from oci.install.plan import LOG_PATH
from oci.pki import ssh
from oci.remote import NodeUnreachable
from oci.service import installlog, machines, tokens
from oci.service import status as intake
from oci.store import Store
from wsgi_client import Client

GUARD = 60.0  # seconds: only against a hung command, never a figure
NODE_LOG = "/var/log"
assert os.path.dirname(LOG_PATH) == NODE_LOG


@pytest.fixture
def node(store, discover, tmp_path):
    """Machine C0 in the live image at 127.0.0.1 with its sshd: (store, the node's /var/log, sshd)."""
    discover("C0", address="127.0.0.1")
    port = free_port()
    site = Store(store.root, lock_timeout=10, config=replace(store.config, ssh_port=port, ssh_connect_timeout=15))
    var_log = tmp_path / "var-log"
    var_log.mkdir()
    # The node's /var/log is the test's folder, in a mount namespace whose mounts die with its last process.
    namespace = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount --bind "$1" /var/log && shift && exec "$@"',
        "sh",
        str(var_log),
    ]
    with sshnode.running(sshnode.live_node_config(site, tmp_path, "C0", port), port, wrapper=namespace) as sshd:
        intake.record(site, "C0", "installing", None, store_now(), step="debootstrap")
        yield site, var_log, sshd


def store_now():
    return datetime.now(UTC).replace(microsecond=0)


def test_the_log_is_read_in_bounded_chunks_whole_characters_and_bytes_that_are_not_utf8(node):
    site, var_log, _ = node
    # Two-byte characters from an odd offset, so chunk ends fall inside characters; one byte that is not UTF-8.
    data = b"x" + "é".encode() * (installlog.LOG_CHUNK // 2 + 10) + b"\n\xff oops\n" + "€ done\n".encode()
    (var_log / "oci-install.log").write_bytes(data)
    texts, offset, replies = [], 0, []
    while True:
        reply = installlog.read(site, "C0", str(offset))
        replies.append(reply)
        texts.append(reply["text"])
        offset = reply["offset"]
        if not reply["more"]:
            break
    assert "".join(texts) == data.decode("utf-8", errors="replace")
    assert offset == len(data) and len(replies) == 2 and replies[0]["status"] == "installing"
    assert installlog.read(site, "C0", str(offset)) == {"serial": "C0", "status": "installing", "text": "", "offset": offset, "more": False}
    # The same through the API's admin route.
    client = Client(site, token=tokens.create(site, "reader", NOW))
    last_line = len("€ done\n".encode())
    code, reply = client.call("GET", f"/api/v1/machines/C0/install-log?offset={len(data) - last_line}")
    assert (code, reply["data"]) == (200, {"serial": "C0", "status": "installing", "text": "€ done\n", "offset": len(data), "more": False})


def test_refusals(node, discover):
    site, _, sshd = node
    for offset in ("-1", "x", "1e3", "٣", str(installlog.MAX_OFFSET + 1)):
        with pytest.raises(InvalidInput, match=r"^offset: .* is not a byte offset$"):
            installlog.read(site, "C0", offset)
    assert installlog.read(site, "C0")["text"] == ""  # no log written yet
    discover("C9", address="127.0.0.9")
    with pytest.raises(Conflict, match="machine C9 has no install to show the log of"):
        installlog.read(site, "C9")
    sshd.terminate()
    sshd.communicate(timeout=GUARD)
    with pytest.raises(NodeUnreachable, match="nothing answers on 127.0.0.1"):
        installlog.read(site, "C0")


def read_line(proc, buffer):
    give_up = time.monotonic() + GUARD
    while b"\n" not in buffer[0]:
        left = give_up - time.monotonic()
        assert left > 0, "no line from ocicli in time"
        if select.select([proc.stdout], [], [], left)[0]:
            chunk = os.read(proc.stdout.fileno(), 65536)
            assert chunk, f"ocicli ended early: {proc.communicate(timeout=GUARD)}"
            buffer[0] += chunk
    line, _, buffer[0] = buffer[0].partition(b"\n")
    return line.decode()


def test_follow_prints_the_log_as_it_grows_until_the_install_ends(node, tmp_path):
    site, var_log, _ = node
    log = var_log / "oci-install.log"
    log.write_text("check-disks: vda 20 GiB\n")
    conf = tmp_path / "oci.conf"
    conf.write_text(f"[state]\ndir = {site.root}\n[ssh]\nport = {site.config.ssh_port}\nconnect_timeout = 15\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OCI_")}, "OCI_CONFIG": str(conf)}
    argv = [str(REPO / "bin" / "ocicli"), "machine-install-log", "C0", "--follow", "--interval", "0.05"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        buffer = [b""]
        assert read_line(proc, buffer) == "check-disks: vda 20 GiB"
        with log.open("a") as out:  # the installer goes on
            out.write("wipe: done\n")
        assert read_line(proc, buffer) == "wipe: done"
        with log.open("a") as out:
            out.write("debootstrap: I: Retrieving InRelease … ok\n")
        assert read_line(proc, buffer) == "debootstrap: I: Retrieving InRelease … ok"
        with log.open("a") as out:
            out.write("unmount: done\n")
        intake.record(site, "C0", "firstboot", None, store_now())  # written before it said so: printed before the end
        out_rest, err = proc.communicate(timeout=GUARD)
        assert (proc.returncode, (buffer[0] + out_rest).decode(), err.decode()) == (0, "unmount: done\n", "")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=GUARD)
    # Without --follow, the whole log at once; with --json, what the API returns.
    done = subprocess.run([*argv[:3], "--json"], env=env, capture_output=True, timeout=GUARD, check=True)
    assert json.loads(done.stdout) == {"serial": "C0", "status": "firstboot", "text": log.read_text(), "offset": log.stat().st_size,
                                       "more": False}  # fmt: skip


def test_an_installed_node_is_read_with_its_cluster_certificates(node, tmp_path):
    site, var_log, sshd = node
    sshnode.enrolment_site(site)
    intake.record(site, "C0", "live", None, store_now())  # (enrolled before its install, as it should have been)
    hostname = machines.add(site, "C0", "cl1", "compute", "loc1")["hostname"]
    intake.record(site, "C0", "installing", None, store_now(), step="debootstrap")
    intake.record(site, "C0", "firstboot", None, store_now())
    intake.record(site, "C0", "installed", IPv4Address("127.0.0.1"), store_now())
    # The installed system: its host certificate from the cluster's host CA, its root trusting the cluster's user CA.
    ssh.ensure_cas(site, "cl1")
    certificate = ssh.sign(site, "cl1", (tmp_path / "host_key.pub").read_text().strip(), "oci-host-C0", [hostname])
    (tmp_path / "host_key-cert.pub").write_text(certificate + "\n")
    (tmp_path / "user_ca.pub").write_text(ssh.public_ca(site, "cl1", "user_ca") + "\n")
    sshd.send_signal(1)  # SIGHUP: sshd re-reads its configuration and certificate
    sshnode.wait_for_certificate(site.config.ssh_port, sshd, certificate)
    (var_log / "oci-install.log").write_text("the install, copied into the target\n")
    assert installlog.read(site, hostname)["text"] == "the install, copied into the target\n"
