"""The one secret masker (``oci.masking``) and its three users: the audit log, ``enc-show``, a dry run's diff."""

from __future__ import annotations

from oci import masking, operations
from oci.store.files import dump_yaml, load_yaml

SECRET_KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n"


def test_one_rule_by_name():
    assert masking.placeholder("pass_keystone_admin", "s3cr3t") == "<secret>"
    assert masking.placeholder("ssl_key", SECRET_KEY) == "<key material>"
    assert masking.placeholder("ssh_user_ca", "ssh-ed25519 AAAA") == "<key material>"
    assert masking.placeholder("ssl_certificate", None) is None  # nothing to hide: shown as empty
    for name in ("password", "bmc_password", "api_token", "horizon_secret_key", "Token"):
        assert masking.placeholder(name, "x") == "***", name
    for name in ("hostname", "cluster", "serial", "role"):
        assert masking.placeholder(name, "x") is None, name


def test_secrets_are_masked_at_any_depth_and_whole():
    data = {"a": [{"password": {"nested": "p"}}, {"pass_x": ["q"]}], 3: "three", "name": ("n",)}
    assert masking.masked(data) == {"a": [{"password": "***"}, {"pass_x": "<secret>"}], "3": "three", "name": ["n"]}


def test_the_audit_log_masker_is_the_one_masker():
    params = {"serial": "S1", "settings": {"ipmi_password": "hunter2", "pass_db": "x", "weight": float("nan")}}
    assert operations.masked(params) == {"serial": "S1", "settings": {"ipmi_password": "***", "pass_db": "<secret>", "weight": "nan"}}


def test_yaml_text_gets_the_same_rule_as_the_document():
    document = {"classes": {"oci::controller": {"pass_db": "x1", "ssl_key": SECRET_KEY, "ssl_ca_chain": None, "machine_ip": "10.0.0.5"}}}
    text = dump_yaml(document)
    shown = masking.masked_yaml(text)
    assert "x1" not in shown and "PRIVATE" not in shown and "10.0.0.5" in shown
    assert "pass_db: <secret>" in shown and "ssl_key: <key material>" in shown
    assert load_yaml(shown) == masking.masked(document)
