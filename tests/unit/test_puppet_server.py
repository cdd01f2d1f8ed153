"""The Puppet server's configuration (golden files: puppet.conf, the server's HOCON settings) and its CA as OCI
uses it: agent certificates issued and revoked in the files of a real ``puppetserver ca setup`` CA, checked by
openssl against that CA's chain and CRL."""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import REPO
from oci import templates
from oci.config import Config
from oci.errors import ConfigError, Conflict, InvalidName
from oci.puppet import ca, server
from oci.store import Store

GOLDEN = REPO / "tests" / "data" / "golden" / "puppet-server"
DEBIAN_FILES = REPO / "tests" / "data" / "puppet-debian"  # as Debian 12 ships them
TOKEN = "TOKEN"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from its golden file (OCI_UPDATE_GOLDEN=1 rewrites it)"


def example_settings(vardir: Path | None) -> server.ServerSettings:
    cfg = Config(puppet_confdir=Path("/etc/puppet"), listen=("127.0.0.1", 8080))
    settings = server.settings_for(cfg, TOKEN, "oci.example.com", vardir)
    # Fixed where a checkout and an installed master differ.
    return replace(settings, enc=Path("/usr/bin/oci-enc"), modulepath=(server.DEBIAN_MODULES,))


def test_an_own_confdir_gets_every_file_whole():
    files = server.render(example_settings(Path("/srv/oci-poc/puppet")), templates.shipped())
    for path, (text, mode) in files.items():
        golden(f"own-vardir/{path.name}", text)
        assert mode == (0o640 if path.name == "puppet.conf" else 0o644)  # puppet.conf holds the report token
    conf = files[Path("/etc/puppet/puppet.conf")][0]
    assert "autosign = false" in conf and "node_terminus = exec" in conf
    assert f"reporturl = http://puppetserver:{TOKEN}@127.0.0.1:8080/api/v1/puppet/report" in conf


def debian_file(path: Path) -> str:
    return (DEBIAN_FILES / path.name).read_text()


def test_debians_files_get_ocis_keys_and_keep_theirs():
    """On a master (Debian's /etc/puppet), Debian's conffiles are edited, not replaced: puppet.conf gets OCI's keys
    after Debian's comments; webserver.conf, already at Debian's 0.0.0.0:8140, is left alone, as are the others."""
    assert server.debian_layout(Path("/etc/puppet")) and not server.debian_layout(Path("/srv/oci-poc/puppet"))
    files = server.render_debian(example_settings(None), templates.shipped(), debian_file)
    assert list(files) == [Path("/etc/puppet/puppet.conf")]
    text, mode = files[Path("/etc/puppet/puppet.conf")]
    golden("debian/puppet.conf", text)
    assert text.startswith(debian_file(Path("puppet.conf"))) and mode == 0o640
    # Again on its own result: nothing moves.
    again = server.render_debian(
        example_settings(None), templates.shipped(), lambda path: text if path.name == "puppet.conf" else debian_file(path)
    )
    assert again[Path("/etc/puppet/puppet.conf")][0] == text


def test_another_listen_address_sets_it_in_debians_webserver_conf():
    settings = replace(example_settings(None), host="192.0.2.2", port=8141)
    files = server.render_debian(settings, templates.shipped(), debian_file)
    text, _ = files[Path("/etc/puppet/puppetserver/conf.d/webserver.conf")]
    golden("debian/webserver.conf", text)
    shipped = debian_file(Path("webserver.conf")).splitlines()
    changed = [(old, new) for old, new in zip(shipped, text.splitlines(), strict=True) if old != new]
    assert changed == [("    ssl-host: 0.0.0.0", "    ssl-host: 192.0.2.2"), ("    ssl-port: 8140", "    ssl-port: 8141")]


def test_merge_ini_sets_keys_where_they_are():
    existing = "# mine\n[main]\nserver = old\nlogdir = /var/log/p\n\n[master]\nautosign = true\n"
    merged = server.merge_ini(existing, "# ours\n[main]\nserver = new\ncertname = c\n[server]\nautosign = false\n[agent]\n# why\nx = 1\n")
    assert merged == (
        "# mine\n[main]\nserver = new\nlogdir = /var/log/p\ncertname = c\n\n[master]\nautosign = false\n\n[agent]\n# why\nx = 1\n"
    )


def test_a_webserver_conf_without_the_key_is_refused():
    with pytest.raises(ConfigError, match="^/w.conf has no ssl-port setting to set$"):
        server.set_hocon_values("webserver: {\n}\n", {"ssl-port": "8141"}, Path("/w.conf"))


@pytest.mark.parametrize(
    ("listen", "boot_url", "expected"),
    [
        (("0.0.0.0", 8080), "", "127.0.0.1:8080"),
        (("192.0.2.2", 8080), "", "192.0.2.2:8080"),
        (("::", 8080), "", "127.0.0.1:8080"),
        (("192.0.2.2", 8080), "http://192.0.2.2/", "192.0.2.2"),
        (("192.0.2.2", 8080), "https://oci.example.com/", "192.0.2.2:8080"),
    ],
)
def test_reports_go_where_the_api_answers_on_this_host(listen, boot_url, expected):
    url = server.report_url(Config(listen=listen, boot_url=boot_url), TOKEN)
    assert url == f"http://puppetserver:{TOKEN}@{expected}/api/v1/puppet/report"


def test_the_default_certname_is_never_localhost(monkeypatch):
    monkeypatch.setattr(server.socket, "getfqdn", lambda: "localhost")
    monkeypatch.setattr(server.socket, "gethostname", lambda: "Master1")
    assert server.default_certname() == "master1"
    monkeypatch.setattr(server.socket, "getfqdn", lambda: "oci.example.com")
    assert server.default_certname() == "oci.example.com"
    monkeypatch.setattr(server.socket, "getfqdn", lambda: "localhost.localdomain")
    monkeypatch.setattr(server.socket, "gethostname", lambda: "localhost")
    with pytest.raises(ConfigError, match="^this host has no name but localhost$"):
        server.default_certname()


def test_a_vardir_with_debians_confdir_is_refused_and_changes_nothing(tmp_path):
    root = tmp_path / "state"
    store = Store(root, lock_timeout=10, config=Config(state_dir=root, puppet_confdir=Path("/etc/puppet")))
    with pytest.raises(ConfigError, match="^--vardir needs a \\[puppet\\] confdir of OCI's own"):
        server.setup(store, "puppet.test", vardir=tmp_path / "var")
    assert not root.exists()


def test_the_command_reads_debian_shared_settings_only_for_another_confdir():
    own = server.command(example_settings(None))
    assert own[own.index("--config") + 1] == "/etc/puppet/puppetserver/conf.d"
    elsewhere = server.command(replace(example_settings(None), confdir=Path("/srv/p")))
    assert elsewhere[elsewhere.index("--config") + 1].split(",")[-1] == "/srv/p/puppetserver/conf.d"
    assert "/etc/puppet/puppetserver/conf.d/auth.conf" in elsewhere[elsewhere.index("--config") + 1]


@pytest.fixture
def ca_store(tmp_path, puppet_ca) -> Store:
    root = tmp_path / "state"
    return Store(root, lock_timeout=10, config=Config(state_dir=root, puppet_confdir=puppet_ca))


def verify(confdir: Path, cert: str, tmp_path: Path, crl: bool = True) -> subprocess.CompletedProcess[str]:
    pem = tmp_path / "agent.pem"
    pem.write_text(cert)
    cadir = confdir / "puppetserver" / "ca"
    argv = ["openssl", "verify", "-CAfile", str(cadir / "ca_crt.pem")]
    argv += ["-crl_check_all", "-CRLfile", str(confdir / "ssl" / "crl.pem")] if crl else []
    return subprocess.run([*argv, str(pem)], capture_output=True, text=True, timeout=60)


def test_setup_made_the_ca_and_a_secret_token(tmp_path, puppet_ca_template):
    state = puppet_ca_template.parent / "state"
    token = state / "puppet" / "report-token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600 and len(token.read_text().strip()) >= 40
    conf = (puppet_ca_template / "puppet.conf").read_text()
    assert token.read_text().strip() in conf and stat.S_IMODE((puppet_ca_template / "puppet.conf").stat().st_mode) == 0o640
    store = Store(state, lock_timeout=10, config=Config(state_dir=state, puppet_confdir=puppet_ca_template))
    assert ca.ready(store)


def test_setup_again_keeps_the_ca_and_the_token(tmp_path, puppet_ca):
    root = tmp_path / "state"
    store = Store(root, lock_timeout=10, config=Config(state_dir=root, puppet_confdir=puppet_ca))
    key = (puppet_ca / "puppetserver" / "ca" / "ca_key.pem").read_bytes()
    first = server.setup(store, "puppet.test", vardir=tmp_path / "var")
    again = server.setup(store, "puppet.test", vardir=tmp_path / "var")
    assert (first["ca"], first["token"], again["ca"], again["token"]) == ("kept", "created", "kept", "kept")
    assert (puppet_ca / "puppetserver" / "ca" / "ca_key.pem").read_bytes() == key


def test_setup_with_a_bad_certname_changes_nothing(tmp_path):
    root = tmp_path / "state"
    store = Store(root, lock_timeout=10, config=Config(state_dir=root, puppet_confdir=tmp_path / "puppet"))
    with pytest.raises(InvalidName, match="^invalid certname 'bad name'$"):
        server.setup(store, "bad name", vardir=tmp_path / "var")
    assert not (tmp_path / "puppet").exists() and not root.exists()


def test_issue_gives_a_certificate_of_the_ca_for_that_name_only(ca_store, tmp_path):
    credentials = ca.issue(ca_store, "n1.example.com")
    confdir = ca_store.config.puppet_confdir
    assert verify(confdir, credentials.certificate_pem, tmp_path).returncode == 0
    subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-ext", "subjectAltName"], input=credentials.certificate_pem,
                             capture_output=True, text=True, timeout=60).stdout  # fmt: skip
    assert "CN = n1.example.com" in subject and "DNS:n1.example.com" in subject
    assert "PRIVATE KEY" in credentials.private_key_pem and credentials.ca_pem.count("BEGIN CERTIFICATE") == 2
    assert credentials.crl_pem.count("BEGIN X509 CRL") == 2
    # Recorded as Puppet's CA records what it signs; the key stays off the master.
    cadir = confdir / "puppetserver" / "ca"
    assert (cadir / "signed" / "n1.example.com.pem").read_text() == credentials.certificate_pem
    assert (cadir / "inventory.txt").read_text().splitlines()[-1].endswith(" /CN=n1.example.com")
    assert not list((confdir / "ssl" / "private_keys").glob("n1.example.com*"))


def test_reissue_revokes_the_old_certificate(ca_store, tmp_path):
    old = ca.issue(ca_store, "n1.example.com")
    new = ca.issue(ca_store, "n1.example.com")
    confdir = ca_store.config.puppet_confdir
    refused = verify(confdir, old.certificate_pem, tmp_path)
    assert refused.returncode != 0 and "revoked" in refused.stdout + refused.stderr
    assert verify(confdir, new.certificate_pem, tmp_path).returncode == 0


def test_revoke(ca_store, tmp_path):
    assert ca.revoke(ca_store, "n1.example.com") is False
    credentials = ca.issue(ca_store, "n1.example.com")
    other = ca.issue(ca_store, "n2.example.com")
    assert ca.revoke(ca_store, "n1.example.com") is True
    assert ca.revoke(ca_store, "n1.example.com") is False
    confdir = ca_store.config.puppet_confdir
    assert verify(confdir, credentials.certificate_pem, tmp_path).returncode != 0
    assert verify(confdir, other.certificate_pem, tmp_path).returncode == 0
    assert (confdir / "ssl" / "crl.pem").read_bytes() == (confdir / "puppetserver" / "ca" / "ca_crl.pem").read_bytes()


def test_without_a_ca(tmp_path):
    store = Store(tmp_path / "state", lock_timeout=10, config=Config(state_dir=tmp_path / "state", puppet_confdir=tmp_path / "none"))
    assert not ca.ready(store)
    with pytest.raises(Conflict, match="^no Puppet CA on this master$"):
        ca.issue(store, "n1.example.com")
    assert ca.revoke(store, "n1.example.com") is False
    assert not (tmp_path / "none").exists()


def test_a_bad_name_changes_nothing(ca_store):
    cadir = ca_store.config.puppet_confdir / "puppetserver" / "ca"
    before = sorted(p.name for p in cadir.rglob("*"))
    with pytest.raises(InvalidName):
        ca.issue(ca_store, "../etc/passwd")
    assert sorted(p.name for p in cadir.rglob("*")) == before


def test_the_command_refuses_bad_input_in_one_line(tmp_path):
    config = tmp_path / "oci.conf"
    config.write_text(f"[puppet]\nconfdir = {tmp_path / 'puppet'}\n")
    env = {**os.environ, "OCI_CONFIG": str(config), "OCI_STATE_DIR": str(tmp_path / "state")}
    done = subprocess.run([str(REPO / "bin" / "oci-puppet-setup"), "--certname", "bad name"], capture_output=True, text=True, env=env,
                          timeout=60)  # fmt: skip
    assert done.returncode == 1 and done.stdout == "" and done.stderr.startswith("oci-puppet-setup: error: invalid certname 'bad name'")
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "puppet").exists()
