"""The Debian packages, on this very machine: ``make deb`` builds them (lintian finds no error or warning),
``apt-get install ./*.deb`` installs them with preseeded debconf answers (a bad one first: refused, nothing
written), the master works (commands, service user, modes, the first token, the API under the embedded
server and under Apache with the shipped site, the Puppet server's configuration and CA made by the postinst
with Debian's real ``puppetserver``), dpkg-reconfigure asks again and keeps hand edits, removing keeps the
configuration and the state, and purging leaves nothing of ours but the Puppet CA (docs/packaging.md). The
module's fixture purges and puts Puppet's configuration back whatever happens, since the packages go into
this machine's /etc and /var/lib."""

from __future__ import annotations

import fcntl
import grp
import hashlib
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
PUPPET_DIR = Path("/etc/puppet")  # [puppet] confdir's default: what oci-puppet-setup writes (and its CA)
PUPPET_CONF = PUPPET_DIR / "puppet.conf"
CADIR = PUPPET_DIR / "puppetserver" / "ca"
REPORT_TOKEN = STATE / "puppet" / "report-token"
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


def in_group(user: str, group: str) -> bool:
    return user in grp.getgrnam(group).gr_mem


@pytest.fixture(scope="module")
def puppet_as_debian_had_it(tmp_path_factory: pytest.TempPathFactory, machine_wide: None) -> Iterator[None]:
    """The postinst configures this machine's Puppet server (/etc/puppet, Debian's puppetserver's own
    conffiles among them) and makes its CA, which purging keeps: the whole tree is put back as it was (owners
    and modes too), and the service user's membership of group puppet (the user itself outlives a purge)."""
    if shutil.which("puppetserver", path=ENV["PATH"]) is None:
        pytest.fail("puppetserver is not installed: run make deps")
    classifier = sh("puppet", "config", "print", "--section", "server", "external_nodes").stdout.strip()
    if classifier not in ("", "none"):
        pytest.skip(f"Puppet uses the classifier {classifier} here: the postinst would leave it, as it should")
    saved = tmp_path_factory.mktemp("puppet") / "etc-puppet"
    sh("cp", "-a", PUPPET_DIR, saved)
    was_member = "oci" in {u.pw_name for u in pwd.getpwall()} and in_group("oci", "puppet")
    try:
        yield
    finally:
        shutil.rmtree(PUPPET_DIR)
        sh("cp", "-a", saved, PUPPET_DIR)
        if not was_member and "oci" in {u.pw_name for u in pwd.getpwall()} and in_group("oci", "puppet"):
            sh("gpasswd", "-d", "oci", "puppet")


@pytest.fixture(scope="module")
def master(debs: list[Path], machine_wide: None, puppet_as_debian_had_it: None) -> Iterator[dict[str, str]]:
    if any(installed(p) for p in PACKAGES) or CONF_DIR.exists() or STATE.exists():
        pytest.skip(f"OCI is already installed here ({CONF_DIR} or {STATE} exists): this test would purge it")
    try:
        # A bad preseeded answer: the master's configuration stops with the reason and writes nothing.
        preseed(**{**ANSWERS, "provisioning_network": ("string", "10.250.0.7/24")})
        refused = sh("apt-get", "install", "-y", "-q", "--no-install-recommends", *debs, check=False)
        assert refused.returncode != 0
        assert "host bits are set: the network is 10.250.0.0/24" in refused.stdout + refused.stderr
        assert not CONF.exists()
        # Fixed, the pending configuration goes through.
        preseed(**ANSWERS)
        done = sh("dpkg", "--configure", "-a", timeout=900)  # puppetserver ca setup: up to 24 s measured, loaded
        yield {"install": refused.stdout + refused.stderr, "configure": done.stdout + done.stderr}
    finally:
        purge_everything()


def edited_conffiles(package: str) -> list[str]:
    """The package's conffiles that differ from what it shipped (dpkg's checksums)."""
    listed = sh("dpkg-query", "-W", "-f=${Conffiles}", package).stdout.split("\n")
    shipped = [line.split()[:2] for line in listed if line.strip() and "obsolete" not in line]
    return [path for path, md5 in shipped if hashlib.md5(Path(path).read_bytes()).hexdigest() != md5]


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


ISSUE_AND_REVOKE = """
from oci import config
from oci.puppet import ca
from oci.store import Store
store = Store.open(config.load())
credentials = ca.issue(store, "node1.example.com")
assert "BEGIN CERTIFICATE" in credentials.certificate_pem and "PRIVATE KEY" in credentials.private_key_pem
print(ca.revoke(store, "node1.example.com"), ca.revoke(store, "node1.example.com"))
"""


def test_the_postinst_set_up_the_puppet_server(master):
    """oci-puppet-setup, run by the postinst from the installed package: the server's settings, its CA, the
    report token, and the service user able to issue and revoke agent certificates (the JVM is not started:
    tests/integration/test_puppetserver_real.py runs a real server)."""
    token = REPORT_TOKEN.read_text().strip()
    user = pwd.getpwnam("oci")
    st = REPORT_TOKEN.stat()
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (user.pw_uid, 0o600)
    assert (REPORT_TOKEN.parent.stat().st_uid, REPORT_TOKEN.parent.stat().st_gid) == (user.pw_uid, user.pw_gid)
    expected = {
        "node_terminus": "exec",
        "external_nodes": str(ENC_FOR_PUPPET),
        "autosign": "false",
        "reports": "http",
        # Where oci-api answers: it listens on the master's provisioning address only (the answer to listen).
        "reporturl": f"http://puppetserver:{token}@10.250.0.1:8080/api/v1/puppet/report",
        "cadir": str(CADIR),
    }
    assert {name: puppet_setting(name) for name in expected} == expected
    # Debian's conffiles: puppetserver's untouched (its folders and port are Debian's), puppet.conf's own lines kept.
    assert edited_conffiles("puppetserver") == []
    assert PUPPET_CONF.read_text().startswith((REPO / "tests" / "data" / "puppet-debian" / "puppet.conf").read_text())
    assert puppet_setting("certname") not in ("localhost", "")
    conf = PUPPET_CONF.stat()  # it holds the token
    assert (conf.st_uid, grp.getgrgid(conf.st_gid).gr_name, stat.S_IMODE(conf.st_mode)) == (0, "puppet", 0o640)
    for name in ("ca_crt.pem", "ca_key.pem", "ca_crl.pem", "serial", "inventory.txt"):
        assert (CADIR / name).is_file(), name
    certname = puppet_setting("certname")
    assert (PUPPET_DIR / "ssl" / "certs" / f"{certname}.pem").is_file()
    keys = [CADIR / "ca_key.pem", CADIR / "root_key.pem", *(PUPPET_DIR / "ssl" / "private_keys").glob("*.pem")]
    assert len(keys) >= 3
    for key in keys:
        assert stat.S_IMODE(key.stat().st_mode) & 0o007 == 0, key
    assert in_group("oci", "puppet")
    # As the service user, with the installed library and configuration, as machine-install-os does.
    done = sh("runuser", "-u", "oci", "--", "env", f"PYTHONPATH={PRIVATE / 'lib'}", "/usr/bin/python3", "-c", ISSUE_AND_REVOKE)
    assert done.stdout.split() == ["True", "False"], done.stdout + done.stderr
    assert "node1.example.com" not in {p.stem for p in (CADIR / "signed").iterdir()}
    # Run again (dpkg-reconfigure, upgrades): the CA and the token are kept.
    again = sh("/usr/bin/oci-puppet-setup", "--json")
    assert '"ca": "kept"' in again.stdout and '"token": "kept"' in again.stdout
    assert REPORT_TOKEN.read_text().strip() == token


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


OCI_PUPPET_SETTINGS = ("node_terminus", "external_nodes", "reports", "reporturl", "basemodulepath")


def puppet_defaults() -> dict[str, str]:
    """OCI's settings as Puppet has them without a puppet.conf of ours (Debian's defaults)."""
    argv = ["puppet", "config", "print", "--section", "server", "--config", "/dev/null"]
    return {name: sh(*argv, name).stdout.strip() for name in OCI_PUPPET_SETTINGS}


def test_remove_keeps_configuration_and_state_purge_leaves_nothing(master, debs):
    token = REPORT_TOKEN.read_text().strip()
    certname = puppet_setting("certname")
    sh("dpkg", "--remove", *PACKAGES)
    assert not Path("/usr/bin/ocicli").exists() and not Path("/usr/bin/oci-api").exists()
    assert CONF.is_file() and (STATE / "pki" / "root.key").is_file() and (STATE / "tokens" / "admin.yaml").is_file()
    assert sh("a2query", "-s", "openstack-cluster-installer", check=False).returncode != 0
    # Puppet no longer classifies with OCI nor sends it reports (the token leaves puppet.conf); the CA stays.
    assert {name: puppet_setting(name) for name in OCI_PUPPET_SETTINGS} == puppet_defaults()
    assert token not in PUPPET_CONF.read_text() and (CADIR / "ca_key.pem").is_file()
    conf = PUPPET_CONF.stat()  # puppet config delete rewrote it: still root:puppet 0640
    assert (conf.st_uid, grp.getgrgid(conf.st_gid).gr_name, stat.S_IMODE(conf.st_mode)) == (0, "puppet", 0o640)
    # Installed again, it finds its configuration and state as they were: no second token, the same CA.
    again = sh("apt-get", "install", "-y", "-q", "--no-install-recommends", *debs, timeout=900)
    assert "first API token" not in again.stdout + again.stderr
    # The reconfiguration above made oci-api listen on every address: the reports go to loopback.
    assert puppet_setting("external_nodes") == str(ENC_FOR_PUPPET) and puppet_setting("reporturl").endswith(
        f":{token}@127.0.0.1:8080/api/v1/puppet/report"
    )

    output = purge_everything()
    assert not any(installed(p) for p in PACKAGES), output
    for path in (CONF_DIR, STATE, PRIVATE, SITE, Path("/etc/apache2/sites-enabled/openstack-cluster-installer.conf"),
                 Path("/etc/sudoers.d/openstack-cluster-installer"), Path("/usr/share/puppet/modules/oci"),
                 Path("/etc/systemd/system/multi-user.target.wants/oci-api.service"),
                 Path("/etc/systemd/system/multi-user.target.wants/oci-discover.service"),
                 Path("/usr/share/bash-completion/completions/ocicli")):  # fmt: skip
        assert not path.exists() and not path.is_symlink(), path
    assert f"{Q}/" not in sh("debconf-get-selections").stdout
    # Puppet's configuration keeps the CA that signed the nodes' certificates and the server's identity, and
    # nothing else of OCI's: no classifier, no reports, no token (docs/packaging.md).
    assert {name: puppet_setting(name) for name in OCI_PUPPET_SETTINGS} == puppet_defaults()
    assert token not in PUPPET_CONF.read_text() and "oci-enc" not in PUPPET_CONF.read_text()
    assert (CADIR / "ca_key.pem").is_file() and puppet_setting("certname") == certname
    assert puppet_setting("autosign") == "false"
    # The service user stays (Debian's practice: files with its uid may remain elsewhere), outside group puppet.
    assert pwd.getpwnam("oci") and not in_group("oci", "puppet")
