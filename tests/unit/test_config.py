"""Configuration: documented defaults, overrides, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from oci import config
from oci.errors import ConfigError


def test_missing_default_file_means_defaults(monkeypatch):
    monkeypatch.setattr(config, "DEFAULT_CONFIG", Path("/nonexistent/oci.conf"))
    cfg = config.load({})
    assert (cfg.state_dir, cfg.listen, cfg.threads, cfg.source) == (Path("/var/lib/oci"), ("127.0.0.1", 8080), 8, None)


def test_file_and_environment(tmp_path):
    conf = tmp_path / "oci.conf"
    conf.write_text("[state]\ndir = /srv/oci\n[api]\nlisten = 0.0.0.0:9000\n[network]\nOCI_IP = 1.2.3.4\n")
    cfg = config.load({"OCI_CONFIG": str(conf)})
    assert (cfg.state_dir, cfg.listen) == (Path("/srv/oci"), ("0.0.0.0", 9000))
    assert config.load({"OCI_CONFIG": str(conf), "OCI_STATE_DIR": "/tmp/x"}).state_dir == Path("/tmp/x")
    assert cfg.new_machines_per_source_per_minute == 30
    conf.write_text("[api]\nnew_machines_per_source_per_minute = 5\n")
    assert config.load({"OCI_CONFIG": str(conf)}).new_machines_per_source_per_minute == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[api]\nlisten = nowhere\n", "invalid listen address"),
        ("[api]\nthreads = -1\n", "threads = '-1'"),
        ("[api]\nnew_machines_per_source_per_minute = 0\n", "new_machines_per_source_per_minute = '0': must be positive"),
        ("[state]\nlock_timout = 5\n", r"unknown key .lock_timout. in section \[state\]"),
        ("not an ini file", "cannot read"),
    ],
)
def test_bad_values_are_named(tmp_path, text, message):
    conf = tmp_path / "oci.conf"
    conf.write_text(text)
    with pytest.raises(ConfigError, match=message):
        config.load({"OCI_CONFIG": str(conf)})


def test_explicit_missing_file_is_an_error():
    with pytest.raises(ConfigError, match="does not exist"):
        config.load({"OCI_CONFIG": "/nonexistent/oci.conf"})


def test_shipped_example_is_the_defaults():
    cfg = config.load({"OCI_CONFIG": str(REPO / "etc" / "openstack-cluster-installer.conf")})
    assert (cfg.state_dir, cfg.listen, cfg.threads, cfg.lock_timeout) == (Path("/var/lib/oci"), ("127.0.0.1", 8080), 8, 60.0)
