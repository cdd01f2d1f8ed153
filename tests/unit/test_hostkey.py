"""oci-live-host-key: the master's address from the kernel command line, and the live node's host key
signed by the real API in process (tests/wsgi_client.py), the HTTP call injected so no socket is opened."""

from __future__ import annotations

import os
import subprocess
from ipaddress import IPv4Address
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import NOW, report_body
from oci.agent import hostkey
from oci.agent.daemon import AgentError
from oci.errors import ConfigError
from oci.pki import ssh
from oci.report import v1
from oci.service import reports
from oci.templates import Templates
from wsgi_client import Client

NODE = "192.168.100.30"


# ------------------------------------------------------------------------------------- kernel command line
@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        ("BOOT_IMAGE=vmlinuz boot=live quiet\n", None),
        ("boot=live oci.master=10.0.0.1", "10.0.0.1"),
        ("boot=live oci.master=10.0.0.1:8080 console=ttyS0", "10.0.0.1:8080"),
        ("oci.master=oci.example.com:80", "oci.example.com:80"),
        ("oci.master=[fd00::1]:8080", "[fd00::1]:8080"),
        ("oci.master=http://10.0.0.1:8080/ fetch=http://10.0.0.1:8080/boot/live/filesystem.squashfs", "http://10.0.0.1:8080"),
        ("oci.master=https://oci.example.com/oci", "https://oci.example.com/oci"),
        ("oci.master=10.0.0.1 oci.master=10.0.0.2:81", "10.0.0.2:81"),  # the last one wins, as for the kernel's own
        ('title="a b" oci.master=10.0.0.3', "10.0.0.3"),
        ('broken="quote oci.master=10.0.0.4', "10.0.0.4"),  # shlex gives up: split on blanks like the kernel
        ("xoci.master=10.0.0.9 noci.master=1", None),
    ],
)
def test_master_from_cmdline(cmdline, expected):
    assert hostkey.master_from_cmdline(cmdline) == expected


@pytest.mark.parametrize("value", ["", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:x", "host/path", "ftp://h", "a;rm", "h:80:80"])
def test_malformed_master_is_an_error(value):
    with pytest.raises(AgentError, match=r"oci\.master=.* is not HOST\[:PORT\]"):
        hostkey.master_from_cmdline(f"boot=live oci.master={value}")


def test_write_master_prefers_the_command_line_and_keeps_the_built_in_one(tmp_path):
    cmdline, server_file = tmp_path / "cmdline", tmp_path / "etc" / "oci" / "pxe-server-ip"
    cmdline.write_text("boot=live\n")
    with pytest.raises(AgentError, match="no master address: boot with oci.master="):
        hostkey.write_master(cmdline, server_file)
    server_file.parent.mkdir(parents=True)
    server_file.write_text("10.9.9.9\n")  # written when the image was built
    assert hostkey.write_master(cmdline, server_file) == "10.9.9.9"
    cmdline.write_text("boot=live oci.master=10.0.0.1:8080\n")
    assert hostkey.write_master(cmdline, server_file) == "10.0.0.1:8080"
    assert server_file.read_text() == "10.0.0.1:8080\n"
    assert oct(server_file.stat().st_mode & 0o777) == "0o644"


# ------------------------------------------------------------------------------------- signing
@pytest.fixture
def node(tmp_path):
    """A node's files: its real ed25519 host key (ssh-keygen), the cmdline, the agent's files."""
    root = tmp_path / "node"
    (root / "etc" / "ssh").mkdir(parents=True)
    key = root / "etc" / "ssh" / "ssh_host_ed25519_key"
    hostkey.ensure_host_key(key)
    (root / "cmdline").write_text("boot=live oci.master=10.0.0.1:8080\n")
    return root


def paths(root: Path) -> dict[str, Path]:
    return {
        "cmdline": root / "cmdline",
        "server_file": root / "etc" / "oci" / "pxe-server-ip",
        "serial_file": root / "etc" / "oci" / "system-serial",
        "key": root / "etc" / "ssh" / "ssh_host_ed25519_key",
        "drop_in": root / "etc" / "ssh" / "sshd_config.d" / "oci-live-host-certificate.conf",
    }


class Api:
    """The poster the command gets: the real API in process, seen from the node's address."""

    def __init__(self, store, remote=NODE):
        self.client = Client(store)
        self.remote = remote
        self.calls: list[tuple[str, int]] = []

    def __call__(self, url, body):
        parts = urlsplit(url)
        assert parts.netloc == "10.0.0.1:8080", url
        status, _, payload = self.client.request("POST", parts.path, body, remote=self.remote)
        self.calls.append((parts.path, status))
        return status, payload.decode()


class Runner:
    """Commands the client runs: ssh-keygen for real, the rest recorded (no systemd here)."""

    def __init__(self):
        self.argvs: list[list[str]] = []

    def __call__(self, argv):
        self.argvs.append(list(argv))
        if argv[0] == "ssh-keygen":
            return subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        return ""


def test_ensure_host_key_makes_one_key_and_keeps_it(tmp_path):
    key = tmp_path / "ssh_host_ed25519_key"
    runner = Runner()
    first = hostkey.ensure_host_key(key, runner)
    assert first.startswith("ssh-ed25519 ") and first.endswith(" root@oci-live")
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert hostkey.ensure_host_key(key, runner) == first
    assert [a[0] for a in runner.argvs] == ["ssh-keygen"]


def test_prepare_then_sign_against_the_api(store, node):
    ssh.ensure_cas(store, None)
    runner, sleeps = Runner(), []
    files = paths(node)
    files["key"].unlink()  # the image carries no host key: prepare makes it
    assert hostkey.main(["prepare"], runner=runner, **files) == 0
    assert files["server_file"].read_text() == "10.0.0.1:8080\n"
    public = files["key"].with_name("ssh_host_ed25519_key.pub").read_text().strip()

    api = Api(store)
    reports.record(store, v1.parse(report_body("C9")), IPv4Address(NODE), NOW)  # the agent's first report
    code = hostkey.main(["sign", "--serial", "C9"], post=api, runner=runner, sleep=sleeps.append, **files)
    assert code == 0
    assert api.calls == [("/api/v1/ssh/host-key", 200)]
    assert sleeps == []
    cert = files["key"].with_name("ssh_host_ed25519_key-cert.pub")
    seen = ssh.describe(cert.read_text())
    assert seen["type"] == "host"
    assert seen["principals"] == ["c9.oci-debian-live", NODE]
    assert cert.read_text().split()[0] == "ssh-ed25519-cert-v01@openssh.com"
    # the certificate is for this node's key: ssh-keygen shows the same fingerprint
    key_fp = subprocess.run(["ssh-keygen", "-lf", "-"], input=public, capture_output=True, text=True, check=True).stdout.split()[1]
    cert_info = subprocess.run(["ssh-keygen", "-Lf", str(cert)], capture_output=True, text=True, check=True).stdout
    assert key_fp in cert_info
    assert files["drop_in"].read_text().splitlines()[-1] == f"HostCertificate {cert}"
    # the real sshd takes the drop-in (rendered from its template) and loads the certificate it names
    config = files["drop_in"].with_name("sshd_config")
    config.write_text(f"HostKey {files['key']}\n" + files["drop_in"].read_text())
    os.makedirs("/run/sshd", exist_ok=True)  # its privilege separation folder, which sshd -t checks too
    checked = subprocess.run(["/usr/sbin/sshd", "-t", "-f", str(config)], capture_output=True, text=True)
    assert (checked.returncode, checked.stderr) == (0, "")
    assert runner.argvs[-1] == ["systemctl", "try-reload-or-restart", "ssh.service"]


def test_sign_waits_for_the_first_report(store, node):
    """Before the agent's first report the master does not know the machine (404): the client retries."""
    api = Api(store)
    sleeps: list[float] = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 3:  # the report arrives while the client waits
            reports.record(store, v1.parse(report_body("C9")), IPv4Address(NODE), NOW)

    files = paths(node)
    files["server_file"].parent.mkdir(parents=True)
    files["server_file"].write_text("10.0.0.1:8080\n")
    files["serial_file"].write_text("C9\n")  # the serial the agent found and kept
    assert hostkey.main(["sign", "--no-reload"], post=api, runner=Runner(), sleep=sleep, **files) == 0
    assert [status for _, status in api.calls] == [404, 404, 404, 200]
    assert sleeps == [5.0, 10.0, 20.0]
    assert files["key"].with_name("ssh_host_ed25519_key-cert.pub").exists()


def test_sign_gives_up_after_its_attempts_and_says_why(store, node, capsys):
    files = paths(node)
    sleeps: list[float] = []
    code = hostkey.main(["sign", "--serial", "C9", "--server", "10.0.0.1:8080", "--attempts", "8"], post=Api(store),
                        runner=Runner(), sleep=sleeps.append, **files)  # fmt: skip
    assert code == 1
    assert sleeps == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0, 60.0]  # doubling, capped at a minute
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("oci-live-host-key: error: host key not signed after 8 attempts: HTTP 404: ")
    assert not files["drop_in"].exists()


def test_sign_from_an_address_that_is_not_the_machines_is_refused_at_once(store, node, capsys):
    files = paths(node)
    sleeps: list[float] = []
    reports.record(store, v1.parse(report_body("C9")), IPv4Address("192.168.100.31"), NOW)  # it reports from elsewhere
    code = hostkey.main(["sign", "--serial", "C9", "--server", "10.0.0.1:8080", "--attempts", "8"], post=Api(store),
                        runner=Runner(), sleep=sleeps.append, **files)  # fmt: skip
    assert code == 1 and sleeps == []  # a conflict does not pass by itself: the operator resolves it
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "host key refused (HTTP 409)" in err and "is not an address of machine C9" in err
    assert [c.route for c in store.conflicts("C9")] == ["host-key"]
    assert not files["drop_in"].exists()


def test_a_refusal_is_not_retried(store, node, capsys):
    files = paths(node)
    api = Api(store)
    files["key"].with_name("ssh_host_ed25519_key.pub").write_text("ssh-ed25519 AAAA; rm -rf /\n")  # the master checks keys
    reports.record(store, v1.parse(report_body("C9")), IPv4Address(NODE), NOW)
    code = hostkey.main(["sign", "--serial", "C9", "--server", "http://10.0.0.1:8080"], post=api, runner=Runner(),
                        sleep=pytest.fail, **files)  # fmt: skip
    assert code == 1
    assert [status for _, status in api.calls] == [400]
    assert "host key refused (HTTP 400): " in capsys.readouterr().err


def test_an_unreachable_master_is_retried_then_reported(node, capsys):
    def down(url, body):
        raise OSError("Connection refused")

    code = hostkey.main(["sign", "--serial", "C9", "--server", "10.0.0.1:8080", "--attempts", "2"], post=down, runner=Runner(),
                        sleep=lambda s: None, **paths(node))  # fmt: skip
    assert code == 1
    assert "master not reachable at http://10.0.0.1:8080/api/v1/ssh/host-key: Connection refused" in capsys.readouterr().err


def test_a_reply_without_a_certificate_is_refused():
    def odd(url, body):
        return 200, '{"data": {"certificate": "ssh-rsa AAAA"}}'

    with pytest.raises(hostkey.Refused, match="no ed25519 host certificate"):
        hostkey.request_certificate("http://m/api/v1/ssh/host-key", "C9", "ssh-ed25519 AAAA", odd)


def test_server_errors_are_retried():
    answers = iter([(502, "<html>bad gateway</html>"), (500, '{"message": "disk full"}')])

    def flaky(url, body):
        return next(answers)

    sleeps: list[float] = []
    with pytest.raises(AgentError, match=r"not signed after 2 attempts: HTTP 500: disk full"):
        hostkey.sign("http://m/api/v1/ssh/host-key", "C9", "ssh-ed25519 AAAA", flaky, attempts=2, sleep=sleeps.append)
    assert sleeps == [5.0]


def test_a_broken_drop_in_override_writes_nothing(tmp_path):
    (tmp_path / hostkey.DROP_IN_TEMPLATE).write_text("HostCertificate {{ certificat }}\n")  # a misspelt variable
    key, drop_in = tmp_path / "ssh_host_ed25519_key", tmp_path / "sshd_config.d" / "oci.conf"
    with pytest.raises(ConfigError, match=r"^template .*sshd-host-certificate.conf.j2:1: 'certificat' is undefined$"):
        hostkey.install_certificate("ssh-ed25519-cert-v01@openssh.com AAAA", key, drop_in, Templates(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == [hostkey.DROP_IN_TEMPLATE]
