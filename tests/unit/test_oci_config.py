"""``oci-config get|set SECTION KEY [VALUE]``, run as the package's maintainer scripts run it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from oci import config
from oci.errors import ConfigError

EXAMPLE = REPO / "etc" / "openstack-cluster-installer.conf"


def oci_config(conf: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OCI_CONFIG": str(conf), **env}
    return subprocess.run([str(REPO / "bin" / "oci-config"), *argv], capture_output=True, text=True, env=environ, timeout=30)


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    path = tmp_path / "oci.conf"
    path.write_text(EXAMPLE.read_text() + "\n# an administrator's note\n[releasenames]\nbookworm = 12\n")
    path.chmod(0o640)
    return path


def test_get_prints_the_files_value_else_the_default(conf):
    conf.write_text("[api]\nLISTEN = 10.0.0.1:8080\n")
    assert oci_config(conf, "get", "api", "listen").stdout == "10.0.0.1:8080\n"
    assert oci_config(conf, "get", "api", "threads").stdout == "8\n"
    assert oci_config(conf, "get", "network", "oci_ip").stdout == "\n"
    assert oci_config(conf, "get", "state", "dir", OCI_STATE_DIR="/srv/oci").stdout == "/srv/oci\n"


def test_get_without_the_default_file_prints_defaults(monkeypatch):
    monkeypatch.setattr(config, "DEFAULT_CONFIG", Path("/nonexistent/oci.conf"))
    assert [config.effective_text(k.section, k.key, {}) for k in config.KEYS] == [k.default for k in config.KEYS]


def test_set_changes_the_line_and_keeps_everything_else(conf):
    before = conf.read_text()
    done = oci_config(conf, "set", "api", "threads", "4")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert conf.read_text() == before.replace("\nthreads = 8\n", "\nthreads = 4\n")
    assert os.stat(conf).st_mode & 0o777 == 0o640
    assert config.load({"OCI_CONFIG": str(conf)}).threads == 4
    assert oci_config(conf, "get", "api", "threads").stdout == "4\n"


def test_set_adds_a_missing_key_to_its_section_or_the_section(tmp_path):
    conf = tmp_path / "oci.conf"
    conf.write_text("# top\n[api]\n# listen here\nlisten = 10.0.0.1:8080\n  \n[releasenames]\nbookworm = 12\n")
    assert oci_config(conf, "set", "api", "threads", "2").returncode == 0
    assert oci_config(conf, "set", "network", "oci_ip", "10.0.0.1").returncode == 0
    assert conf.read_text() == (
        "# top\n[api]\n# listen here\nlisten = 10.0.0.1:8080\nthreads = 2\n  \n"
        "[releasenames]\nbookworm = 12\n\n[network]\noci_ip = 10.0.0.1\n"
    )


def test_set_replaces_a_value_on_several_lines(tmp_path):
    conf = tmp_path / "oci.conf"
    conf.write_text("[api]\ntrusted_networks = 127.0.0.0/8,\n    10.0.0.0/8\nthreads = 2\n")
    assert oci_config(conf, "set", "api", "trusted_networks", "192.168.0.0/16").returncode == 0
    assert conf.read_text() == "[api]\ntrusted_networks = 192.168.0.0/16\nthreads = 2\n"


def test_set_of_the_same_value_leaves_the_file_alone(conf):
    before = os.stat(conf)
    assert oci_config(conf, "set", "api", "listen", "127.0.0.1:8080").returncode == 0
    after = os.stat(conf)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("set", "api", "listen", "nowhere"), "[api] listen = 'nowhere': invalid listen address"),
        (("set", "ssh", "port", "0"), "[ssh] port = '0': must be from 1 to 65535"),
        (("set", "api", "thread", "4"), "unknown key 'thread' in section [api]"),
        (("set", "releasenames", "bookworm", "13"), "unknown key 'bookworm' in section [releasenames]"),
        (("set", "boot", "kernel_args", "quiet\n[api]"), "a value is one line"),
        (("set", "boot", "kernel_args", " quiet"), "a value is one line"),
        (("get", "api", "thread"), "unknown key 'thread' in section [api]"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(conf, argv, message):
    before = conf.read_bytes()
    done = oci_config(conf, *argv)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("oci-config: error: ") and message in done.stderr and done.stderr.count("\n") == 1
    assert conf.read_bytes() == before
    assert [p.name for p in conf.parent.iterdir()] == [conf.name]


def test_a_file_oci_would_refuse_is_not_edited(conf):
    conf.write_text("[api]\nthreds = 4\n")
    done = oci_config(conf, "set", "api", "threads", "4")
    assert done.returncode == 1 and "unknown key 'threds' in section [api]" in done.stderr
    assert conf.read_text() == "[api]\nthreds = 4\n"
    missing = conf.parent / "missing.conf"
    done = oci_config(missing, "set", "api", "threads", "4")
    assert done.returncode == 1 and "does not exist" in done.stderr and not missing.exists()
    assert oci_config(conf, "--help").stdout.startswith("usage: oci-config")


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_set_keeps_the_files_owner(conf):
    os.chown(conf, 0, 4321)  # as the package makes it: root:oci 0640
    assert oci_config(conf, "set", "api", "threads", "4").returncode == 0
    st = os.stat(conf)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, 4321, 0o640)


def test_set_to_empty_writes_the_key_without_a_value(conf):
    assert oci_config(conf, "set", "api", "plain_http_admin_networks", "").returncode == 0
    assert "\nplain_http_admin_networks =\n" in conf.read_text()
    assert config.load({"OCI_CONFIG": str(conf)}).plain_http_admin_networks == ()


def test_set_without_the_default_file_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "DEFAULT_CONFIG", tmp_path / "oci.conf")
    with pytest.raises(ConfigError, match=r"configuration file .*oci.conf does not exist$"):
        config.set_text("api", "threads", "4", {})
    assert list(tmp_path.iterdir()) == []


@settings(deadline=None, max_examples=200)
@given(text=st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40).map(str.strip))
def test_any_one_line_value_reads_back_and_other_lines_stay(tmp_path_factory, text):
    conf = tmp_path_factory.mktemp("set") / "oci.conf"
    conf.write_text(EXAMPLE.read_text())
    try:
        config.set_text("boot", "kernel_args", text, {"OCI_CONFIG": str(conf)})
    except ConfigError:  # not printable (e.g. U+200B): refused, and the file is as it was
        assert conf.read_text() == EXAMPLE.read_text()
        return
    assert config.load({"OCI_CONFIG": str(conf)}).kernel_args == text
    assert config.effective_text("boot", "kernel_args", {"OCI_CONFIG": str(conf)}) == text
    before, after = EXAMPLE.read_text().splitlines(), conf.read_text().splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed in ([], [before.index("kernel_args = console=tty0 console=ttyS0,115200")])  # [] when text is the default
