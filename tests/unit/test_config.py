"""Configuration: documented defaults, overrides, and one-line errors."""

from __future__ import annotations

import configparser
import dataclasses
import os
import subprocess
import sys
import types
import typing
from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from conftest import REPO
from oci import config
from oci.errors import ConfigError

# Values other than the defaults, so that each parser's other results are checked against the field's type too.
SAMPLES = {
    ("state", "dir"): ("/srv/oci",),
    ("api", "tls_certificate"): ("/etc/ssl/oci.pem",),
    ("api", "trusted_networks"): ("10.0.0.0/8, 192.168.1.0/24", ""),
    ("network", "provisioning_network"): ("192.168.100.0/24",),
    ("network", "oci_ip"): ("192.168.100.2",),
    ("network", "dhcp_range"): ("192.168.100.100-192.168.100.199",),
    ("network", "dns_servers"): ("192.0.2.53,192.0.2.54",),
    ("boot", "url"): ("https://oci.example.org:8443/",),
    ("bmc", "min_interval"): ("1",),
    ("state", "lock_timeout"): ("2.5",),
}


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


def test_shipped_example_sets_every_key_to_its_default(tmp_path):
    empty = tmp_path / "empty.conf"
    empty.write_text("")
    shipped = config.load({"OCI_CONFIG": str(REPO / "etc" / "openstack-cluster-installer.conf")})
    defaults = config.load({"OCI_CONFIG": str(empty)})
    assert replace(shipped, source=None) == replace(defaults, source=None) == config.Config()


def test_connection_bounds_and_plain_http_admin_networks(tmp_path):
    conf = tmp_path / "oci.conf"
    conf.write_text(
        "[api]\nconnections_per_source = 4\nmax_connections = 50\nclient_timeout = 2\nplain_http_admin_networks = 127.0.0.1/32,10.0.0.0/8\n"
    )
    cfg = config.load({"OCI_CONFIG": str(conf)})
    assert (cfg.connections_per_source, cfg.max_connections, cfg.client_timeout) == (4, 50, 2)
    assert cfg.plain_http_admin_networks == (IPv4Network("127.0.0.1/32"), IPv4Network("10.0.0.0/8"))
    conf.write_text("[api]\nplain_http_admin_networks =\n")
    assert config.load({"OCI_CONFIG": str(conf)}).plain_http_admin_networks == ()
    for text, message in (("client_timeout = 0", "must be from 1 to 3600"), ("connections_per_source = many", "invalid literal"),
                          ("plain_http_admin_networks = 0.0.0.0/-1", "invalid network list")):  # fmt: skip
        conf.write_text(f"[api]\n{text}\n")
        with pytest.raises(ConfigError, match=message):
            config.load({"OCI_CONFIG": str(conf)})


def conforms(value: object, hint: object) -> bool:
    """``value`` is of the type ``hint`` (the forms Config's annotations use: classes, unions, tuples)."""
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, a) for a in arguments)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return all(conforms(v, arguments[0]) for v in value)
        return len(value) == len(arguments) and all(conforms(v, a) for v, a in zip(value, arguments, strict=True))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, hint)  # type: ignore[arg-type]


def test_config_fields_are_the_table():
    """Config is written out for mypy (see the comment above it): it must be KEYS, field for field, in order."""
    fields = dataclasses.fields(config.Config)
    assert [f.name for f in fields] == [k.field for k in config.KEYS] + ["source"]
    hints = typing.get_type_hints(config.Config)
    for k, f in zip(config.KEYS, fields, strict=False):
        assert f.default == k.parse(k.default), k
        assert conforms(f.default, hints[f.name]), k
    assert len({(k.section, k.key) for k in config.KEYS}) == len(config.KEYS)
    assert all(k.key == k.key.lower() and k.help for k in config.KEYS)


@pytest.mark.parametrize(
    ("k", "text"),
    [(k, text) for k in config.KEYS for text in SAMPLES.get((k.section, k.key), ())],
    ids=lambda v: f"{v.section}.{v.key}" if isinstance(v, config.ConfigKey) else str(v),
)
def test_every_parser_returns_its_fields_type(k, text):
    value = k.parse(text)
    assert conforms(value, typing.get_type_hints(config.Config)[k.field])


def test_shipped_example_sets_every_key_of_the_table():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "etc" / "openstack-cluster-installer.conf", encoding="utf-8")
    written = {(section, name): parser[section][name] for section in parser.sections() for name in parser[section]}
    assert written == {(k.section, k.key): k.default for k in config.KEYS}


def test_a_store_opens_with_the_settings_and_the_configuration_never_imports_the_store(tmp_path):
    from oci.store import Store

    cfg = replace(config.Config(state_dir=tmp_path), lock_timeout=7.0)
    store = Store.open(cfg)
    assert (store.root, store.config, store.lock_timeout) == (tmp_path, cfg, 7.0)
    # No import loop: the store depends on the configuration, not the reverse.
    code = "import sys, oci.config; print(sorted(m for m in sys.modules if m.startswith('oci.store')))"
    env = {**os.environ, "PYTHONPATH": str(REPO / "lib")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
