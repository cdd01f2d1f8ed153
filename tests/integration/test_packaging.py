"""The Debian packages, on this very machine: ``make deb`` builds them (lintian finds no error or warning),
``apt-get install ./*.deb`` installs them with preseeded debconf answers (a bad one first: refused, nothing
written), the master works (commands, service user, modes, the first token, the API under the embedded
server and under Apache with the shipped site), dpkg-reconfigure asks again and keeps hand edits, removing
keeps the configuration and the state, and purging leaves nothing of ours. The module's fixture purges
whatever happens, since the packages go into this machine's /etc and /var/lib."""

from __future__ import annotations

import fcntl
import grp
import http.client
import os
import pwd
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="installs and purges Debian packages on this machine: needs root"),
]

PACKAGES = (
    "openstack-cluster-installer",
    "openstack-cluster-installer-agent",
    "openstack-cluster-installer-cli",
    "openstack-cluster-installer-common",
    "openstack-cluster-installer-poc",
    "puppet-module-oci",
)
CONF_DIR = Path("/etc/openstack-cluster-installer")
CONF = CONF_DIR / "openstack-cluster-installer.conf"
STATE = Path("/var/lib/oci")
PRIVATE = Path("/usr/share/openstack-cluster-installer")
SITE = Path("/etc/apache2/sites-available/openstack-cluster-installer.conf")
ENC_FOR_PUPPET = PRIVATE / "puppet" / "oci-enc-puppet"
PUPPET_CONF = Path("/etc/puppet/puppet.conf")
# The postinst configures Puppet when a puppetserver command exists; the real one is a 1 GB JVM, so a stub
# stands in for it (removed afterwards). The settings go through the real `puppet config`.
FAKE_PUPPETSERVER = Path("/usr/local/sbin/puppetserver")
SYSTEM_LOCK = Path("/run/lock/oci-tests-system-packages.lock")
# Debian's tools and interpreter only (root's PATH, less /usr/local/bin), and no OCI_* variable of the test run.
ENV = {"PATH": "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive"}
Q = "openstack-cluster-installer"
ANSWERS = {
    "provisioning_network": ("string", "10.250.0.0/24"),
    "master_ip": ("string", "10.250.0.1"),
    "debian_mirror": ("string", "http://deb.debian.org/debian"),
    "listen": ("string", "10.250.0.1:8080"),
    "web_server": ("select", "embedded"),
}


def sh(*argv: str | Path, check: bool = True, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 300):
    done = subprocess.run([os.fspath(a) for a in argv], capture_output=True, text=True, input=input, env=env or ENV, timeout=timeout)
    if check:
        assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def preseed(**answers: tuple[str, str]) -> None:
    sh("debconf-set-selections", input="".join(f"{Q} {Q}/{key} {kind} {value}\n" for key, (kind, value) in answers.items()))


def installed(package: str) -> bool:
    done = sh("dpkg-query", "-W", "-f=${db:Status-Status}", package, check=False)
    return done.returncode == 0 and done.stdout not in ("", "not-installed")


def purge_everything() -> str:
    present = [p for p in PACKAGES if installed(p)]
    if not present:
        return ""
    done = sh("dpkg", "--purge", *present, check=False)
    if done.returncode != 0:  # a broken maintainer script must not leave this machine dirty
        sh("dpkg", "--purge", "--force-all", *[p for p in PACKAGES if installed(p)], check=False)
    return done.stdout + done.stderr


def http_get(port: int, path: str, token: str | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
    response = conn.getresponse()
    response.read()
    return response.status


def wait_http(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            http_get(port, "/api/v1/health")
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"server did not start: {proc.communicate()}")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def debs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    for tool in ("dpkg-buildpackage", "dh", "dh_python3", "lintian", "help2man", "debconf-set-selections", "msgfmt"):
        if shutil.which(tool, path=ENV["PATH"]) is None:
            pytest.fail(f"{tool} is not installed: run make deps")
    work = tmp_path_factory.mktemp("deb")
    done = sh("make", "-C", REPO, "deb", f"DIST={work / 'dist'}", f"DEB_BUILD_DIR={work / 'build'}", check=False, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]  # lintian --fail-on error,warning is part of it
    found = sorted((work / "dist").glob("*.deb"))
    assert {p.name.split("_")[0] for p in found} == set(PACKAGES)
    return found


@pytest.fixture(scope="module")
def machine_wide() -> Iterator[None]:
    """This machine's packages, /etc and /var/lib, one test run at a time: another make check beside this one
    (another clone) waits here instead of purging what this one installed. The limit only guards a hang."""
    with SYSTEM_LOCK.open("a") as lock:
        give_up = time.monotonic() + 3600
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > give_up:
                    pytest.fail(f"{SYSTEM_LOCK} stayed locked for an hour")
                time.sleep(1)
        yield


@pytest.fixture(scope="module")
def master(debs: list[Path], machine_wide: None) -> Iterator[dict[str, str]]:
    if any(installed(p) for p in PACKAGES) or CONF_DIR.exists() or STATE.exists():
        pytest.skip(f"OCI is already installed here ({CONF_DIR} or {STATE} exists): this test would purge it")
    if shutil.which("puppetserver", path=ENV["PATH"] + ":/usr/local/bin"):
        pytest.skip("a puppetserver is installed here: this test would change its classifier")
    puppet_conf = PUPPET_CONF.read_bytes() if PUPPET_CONF.exists() else None
    FAKE_PUPPETSERVER.write_text("#!/bin/sh\nexit 0\n")
    FAKE_PUPPETSERVER.chmod(0o755)
    try:
        # A bad preseeded answer: the master's configuration stops with the reason and writes nothing.
        preseed(**{**ANSWERS, "provisioning_network": ("string", "10.250.0.7/24")})
        refused = sh("apt-get", "install", "-y", "-q", "--no-install-recommends", *debs, check=False)
        assert refused.returncode != 0
        assert "host bits are set: the network is 10.250.0.0/24" in refused.stdout + refused.stderr
        assert not CONF.exists()
        # Fixed, the pending configuration goes through.
        preseed(**ANSWERS)
        done = sh("dpkg", "--configure", "-a")
        yield {"install": refused.stdout + refused.stderr, "configure": done.stdout + done.stderr}
    finally:
        purge_everything()
        FAKE_PUPPETSERVER.unlink()
        if puppet_conf is not None:
            PUPPET_CONF.write_bytes(puppet_conf)


def puppet_setting(name: str) -> str:
    return sh("puppet", "config", "print", "--section", "server", name).stdout.strip()


def test_the_commands_run_from_the_private_library(master):
    assert sh("/usr/bin/ocicli", "--help").stdout.startswith("usage: ocicli")
    for command in ("oci-api", "oci-pki", "oci-token", "oci-config", "oci-discover", "oci-report-status", "oci-install", "oci-poc"):
        assert sh(f"/usr/bin/{command}", "--help").returncode == 0
    unknown = sh("/usr/bin/oci-enc", "unknown.example.com", check=False)
    assert unknown.returncode == 1 and "unknown node unknown.example.com" in unknown.stderr
    # Puppet's path: as user puppet, through sudo, as the service user.
    if "puppet" in {u.pw_name for u in pwd.getpwall()}:  # puppet-agent makes it (make deps installs puppet)
        unknown = sh("runuser", "-u", "puppet", "--", ENC_FOR_PUPPET, "unknown.example.com", check=False)
        assert unknown.returncode == 1 and "unknown node unknown.example.com" in unknown.stderr
    assert (puppet_setting("node_terminus"), puppet_setting("external_nodes")) == ("exec", str(ENC_FOR_PUPPET))
    # The library is a private module, byte-compiled at install; nothing named oci in dist-packages.
    assert (PRIVATE / "lib" / "oci" / "__init__.py").is_file()
    assert list((PRIVATE / "lib" / "oci").glob("__pycache__/__init__.cpython-*.pyc"))
    assert not Path("/usr/lib/python3/dist-packages/oci").exists()
    assert Path("/usr/share/bash-completion/completions/ocicli").is_file()
    # The shipped templates sit beside the library, which finds them as in a checkout (docs/templates.md).
    assert (PRIVATE / "share" / "templates" / "dhcpd.conf.j2").is_file()
    assert "subnet 10.250.0.0 netmask 255.255.255.0 {" in sh("/usr/bin/oci-boot-render", "--print").stdout
    assert sh("man", "-w", "ocicli").stdout.strip().endswith("ocicli.1.gz")
    assert Path("/usr/share/puppet/modules/oci/manifests/generic.pp").is_file()


def test_service_user_state_directory_and_secrets(master):
    user = pwd.getpwnam("oci")
    assert user.pw_uid < 1000 and user.pw_shell == "/usr/sbin/nologin"
    state = STATE.stat()
    assert (state.st_uid, state.st_gid, stat.S_IMODE(state.st_mode)) == (user.pw_uid, user.pw_gid, 0o750)
    for secret in ("pki/root.key", "pki/oci-ca.key", "tokens/admin.yaml"):
        st = (STATE / secret).stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (user.pw_uid, 0o600), secret
    conf = CONF.stat()
    assert (conf.st_uid, grp.getgrgid(conf.st_gid).gr_name, stat.S_IMODE(conf.st_mode)) == (0, "oci", 0o640)
    assert stat.S_IMODE(Path("/etc/sudoers.d/openstack-cluster-installer").stat().st_mode) == 0o440
    # The answers are in the configuration, under keys the configuration loader knows.
    text = CONF.read_text()
    assert "listen = 10.250.0.1:8080" in text and "trusted_networks = 127.0.0.0/8,10.250.0.0/24" in text
    assert "oci_ip = 10.250.0.1" in text and "debian_mirror = http://deb.debian.org/debian" in text
    assert sh("/usr/bin/oci-config", "get", "network", "provisioning_network").stdout == "10.250.0.0/24\n"
    # The embedded server is enabled (systemd is not running here, so nothing was started).
    assert Path("/etc/systemd/system/multi-user.target.wants/oci-api.service").is_symlink()
    # A command root runs on the master acts as the service user: the API can still change what it wrote.
    sh("/usr/bin/ocicli", "swift-region-create", "region1")
    sh("/usr/bin/ocicli", "location-create", "dc1", "region1")
    assert all(p.stat().st_uid == user.pw_uid for p in STATE.rglob("*"))


def test_first_token_is_shown_once_and_stored_hashed(master):
    tokens = re.findall(r"\boci-[A-Za-z0-9_-]{40,}", master["configure"])
    assert len(tokens) == 1, master["configure"]
    token = tokens[0]
    for root in (STATE, CONF_DIR, Path("/var/cache/debconf")):
        for path in root.rglob("*"):
            if path.is_file():
                assert token.encode() not in path.read_bytes(), path
    # oci-api, started by hand as the service user (no systemd here), takes it.
    port = free_port()
    proc = subprocess.Popen(["runuser", "-u", "oci", "--", "/usr/bin/oci-api", "--listen", f"127.0.0.1:{port}"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_http(port, proc)
        assert http_get(port, "/api/v1/machines", token) == 200
        assert http_get(port, "/api/v1/machines") == 401
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_reconfigure_asks_again_refuses_bad_answers_and_keeps_hand_edits(master):
    CONF.write_text(CONF.read_text().replace("threads = 8", "threads = 4") + "# kept by hand\n")
    # The teletype frontend reads the answers from stdin: a bad network twice, then good answers.
    answers = "10.251.0.0/33\n10.251.0.0\n10.251.0.0/24\n10.252.0.1\n10.251.0.1\nhttp://mirror.example.org/debian\n0.0.0.0:8080\napache2\n"
    done = sh("dpkg-reconfigure", Q, input=answers, env={**ENV, "DEBIAN_FRONTEND": "teletype"})
    out = " ".join((done.stdout + done.stderr).split())  # the frontend wraps lines
    assert 'The answer "10.251.0.0/33" is not valid: the prefix length must be a number from 0 to 32' in out
    assert 'The answer "10.251.0.0" is not valid: not in CIDR notation' in out
    assert "it is not inside the provisioning network 10.251.0.0/24" in out
    text = CONF.read_text()
    assert "threads = 4" in text and text.endswith("# kept by hand\n")
    assert "trusted_networks = 127.0.0.0/8,10.251.0.0/24" in text and "listen = 0.0.0.0:8080" in text
    assert "oci_ip = 10.251.0.1" in text and "debian_mirror = http://mirror.example.org/debian" in text
    assert "10.250.0.0/24" not in text
    # Apache serves the API now: the site is enabled and the embedded server disabled.
    assert sh("a2query", "-s", "openstack-cluster-installer").returncode == 0
    assert not Path("/etc/systemd/system/multi-user.target.wants/oci-api.service").exists()
    assert sh("apache2ctl", "-t").returncode == 0


def test_the_shipped_apache_site_serves_the_api(master, tmp_path):
    """The site file and the WSGI entry in a private Apache (its own ServerRoot and port), as the service user."""
    token = re.findall(r"\boci-[A-Za-z0-9_-]{40,}", master["configure"])[0]
    port = free_port()
    root = tmp_path / "apache"
    (root / "run").mkdir(parents=True)
    shutil.chown(root / "run", "www-data")
    modules = "/usr/lib/apache2/modules"
    (root / "apache2.conf").write_text(f"""ServerRoot "{root}"
ServerName 127.0.0.1
PidFile {root}/run/apache2.pid
DefaultRuntimeDir {root}/run
Mutex file:{root}/run default
User www-data
Group www-data
ErrorLog {root}/error.log
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule wsgi_module {modules}/mod_wsgi.so
Listen 127.0.0.1:{port}
Include {SITE}
""")
    proc = subprocess.Popen(["apache2", "-d", str(root), "-f", str(root / "apache2.conf"), "-DFOREGROUND"], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_http(port, proc)
        assert http_get(port, "/api/v1/health") == 200
        assert http_get(port, "/api/v1/machines", token) == 200  # the Authorization header reaches the application
        assert http_get(port, "/api/v1/machines") == 401
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
        print((root / "error.log").read_text() if (root / "error.log").exists() else "")


def test_remove_keeps_configuration_and_state_purge_leaves_nothing(master, debs):
    sh("dpkg", "--remove", *PACKAGES)
    assert not Path("/usr/bin/ocicli").exists() and not Path("/usr/bin/oci-api").exists()
    assert CONF.is_file() and (STATE / "pki" / "root.key").is_file() and (STATE / "tokens" / "admin.yaml").is_file()
    assert sh("a2query", "-s", "openstack-cluster-installer", check=False).returncode != 0
    # Installed again, it finds its configuration and state as they were: no second token.
    again = sh("apt-get", "install", "-y", "-q", "--no-install-recommends", *debs)
    assert "first API token" not in again.stdout + again.stderr

    output = purge_everything()
    assert not any(installed(p) for p in PACKAGES), output
    for path in (CONF_DIR, STATE, PRIVATE, SITE, Path("/etc/apache2/sites-enabled/openstack-cluster-installer.conf"),
                 Path("/etc/sudoers.d/openstack-cluster-installer"), Path("/usr/share/puppet/modules/oci"),
                 Path("/etc/systemd/system/multi-user.target.wants/oci-api.service"),
                 Path("/etc/systemd/system/multi-user.target.wants/oci-discover.service"),
                 Path("/usr/share/bash-completion/completions/ocicli")):  # fmt: skip
        assert not path.exists() and not path.is_symlink(), path
    assert f"{Q}/" not in sh("debconf-get-selections").stdout
    assert puppet_setting("external_nodes") == "none" and "oci" not in PUPPET_CONF.read_text()
    # The service user stays (Debian's practice: files with its uid may remain elsewhere).
    assert pwd.getpwnam("oci")
