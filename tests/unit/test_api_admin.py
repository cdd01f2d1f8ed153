"""The admin API: every operator route needs a valid token, input errors are 4xx, refusals change nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, state_files
from oci.api import make_app
from oci.cli.backend import HttpBackend
from oci.cli.docgen import NODE_ENDPOINTS
from oci.errors import InvalidInput
from oci.operations import OPERATIONS
from oci.service import tokens
from wsgi_client import Client

NODE_ROUTES = {(method, path) for method, path, _ in NODE_ENDPOINTS}  # documented in docs/api.md


def concrete(path):
    return path.replace("<machine>", "C1").replace("<serial>", "C2").replace("<name>", "cl1").replace("<address>", "192.168.101.2")


def admin_routes(app):
    out = []
    for route in app.routes:
        if (route.method, route.rule) not in NODE_ROUTES:
            out.append((route.method, route.rule.replace("<", "<").replace(">", ">")))
    return out


HTTP_OPERATIONS = [op for op in OPERATIONS.values() if not op.local_only]


def test_every_admin_route_is_an_operation(store):
    app = make_app(store)
    assert sorted(admin_routes(app)) == sorted((op.method, f"/api/v1{op.path}") for op in HTTP_OPERATIONS)


def test_local_only_operations_have_no_route_and_no_http_client(site):
    local = {op.name for op in OPERATIONS.values() if op.local_only}
    assert {"token_create", "token_list", "token_revoke"} <= local
    assert all(OPERATIONS[name].path == "" for name in local)
    good = tokens.create(site, "ops", NOW)
    for path in ("/api/v1", "/api/v1/", "/api/v1/tokens", "/api/v1/token-create"):
        status, reply = Client(site).call("POST", path, body={"name": "x"}, token=good)
        assert status in (404, 405), (path, reply)
    assert [t["name"] for t in tokens.list_(site)] == ["ops"]
    with pytest.raises(InvalidInput, match="token_create runs only on the master"):
        HttpBackend("http://127.0.0.1:9", good, None).call("token_create", name="x")


@pytest.mark.parametrize(("method", "rule"), sorted((op.method, f"/api/v1{op.path}") for op in HTTP_OPERATIONS))
def test_every_admin_route_refuses_missing_wrong_and_revoked_tokens(site, method, rule):
    good = tokens.create(site, "ops", NOW)
    old = tokens.create(site, "old", NOW)
    tokens.revoke(site, "old")
    client = Client(site)
    before = state_files(site)
    for token, message in ((None, "authentication required"), ("oci-wrong", "invalid or revoked token"), (old, "invalid or revoked token"),
                           ("Basic abc", "invalid or revoked token")):  # fmt: skip
        status, reply = client.call(method, concrete(rule), body={}, token=token)
        assert status == 401, (rule, token, reply)
        assert message in reply["message"]
        assert good not in json.dumps(reply)
    assert state_files(site) == before


def test_loopback_is_not_trusted_for_admin_routes(site):
    status, _ = Client(site).call("GET", "/api/v1/clusters", token=None, remote="127.0.0.1")
    assert status == 401


def test_admin_tokens_over_plain_http_only_from_loopback(site):
    token = tokens.create(site, "ops", NOW)
    client = Client(site, token=token)
    before = state_files(site)
    for remote in ("10.20.30.40", "192.168.100.20", "::ffff:10.0.0.1", "2001:db8::1", "not-an-address"):
        for forged in ({}, {"HTTP_X_FORWARDED_PROTO": "https"}):  # a header any client writes proves nothing
            client.extra_environ = forged
            status, reply = client.call("POST", "/api/v1/clusters", {"name": "cl2", "domain": "example.com"}, remote=remote, scheme="http")
            assert status == 403, (remote, reply)
            assert reply["message"] == "admin requests over plain HTTP are accepted only from 127.0.0.0/8: use HTTPS"
            assert reply["hint"] == "see [api] plain_http_admin_networks"
    client.extra_environ = {}
    assert state_files(site) == before
    for remote in ("127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"):
        status, reply = client.call("GET", "/api/v1/clusters", remote=remote, scheme="http")
        assert status == 200, (remote, reply)
    status, _ = client.call("GET", "/api/v1/clusters", remote="10.20.30.40", scheme="https")
    assert status == 200
    # Without a token, plain HTTP from afar is refused the same way: the refusal says nothing of tokens.
    status, reply = client.call("GET", "/api/v1/clusters", remote="10.20.30.40", scheme="http", token=None)
    assert status == 403 and "use HTTPS" in reply["message"]


def test_plain_http_admin_networks_are_configurable(site, tmp_path):
    from dataclasses import replace
    from ipaddress import IPv4Network

    token = tokens.create(site, "ops", NOW)
    site.config = replace(site.config, plain_http_admin_networks=(IPv4Network("127.0.0.1/32"), IPv4Network("10.20.30.0/24")))
    client = Client(site, token=token)
    assert client.call("GET", "/api/v1/clusters", remote="10.20.30.40", scheme="http")[0] == 200
    status, reply = client.call("GET", "/api/v1/clusters", remote="127.0.0.2", scheme="http")
    assert status == 403
    assert reply["message"] == "admin requests over plain HTTP are accepted only from 127.0.0.1/32, 10.20.30.0/24: use HTTPS"
    site.config = replace(site.config, plain_http_admin_networks=())  # HTTPS only
    status, reply = client.call("GET", "/api/v1/clusters", remote="127.0.0.1", scheme="http")
    assert (status, reply["message"]) == (403, "admin requests over plain HTTP are accepted only from no network: use HTTPS")
    assert client.call("GET", "/api/v1/clusters", remote="127.0.0.1", scheme="https")[0] == 200


def test_admin_operations_with_a_token(site):
    client = Client(site, token=tokens.create(site, "ops", NOW))
    status, reply = client.call("GET", "/api/v1/clusters")
    assert (status, reply["data"]) == (200, [{"domain": "example.com", "name": "cl1"}])
    status, reply = client.call("POST", "/api/v1/machines/C2/enrolment", {"cluster": "cl1", "role": "compute", "location": "loc1"})
    assert (status, reply["data"]["hostname"]) == (200, "cl1-compute-1.example.com")
    status, reply = client.call("POST", "/api/v1/machines/C2/enrolment", {"cluster": "cl1", "role": "compute", "location": "loc1"})
    assert status == 409 and "already enrolled" in reply["message"]
    status, reply = client.call("GET", "/api/v1/machines/NOPE")
    assert status == 404
    status, reply = client.call("POST", "/api/v1/clusters", {"name": "../x", "domain": "example.com"})
    assert status == 400 and "invalid cluster name" in reply["message"]
    status, reply = client.call("POST", "/api/v1/clusters", {"name": "cl2"})
    assert status == 400 and "parameter 'domain' is required" in reply["message"]
    status, reply = client.call("POST", "/api/v1/clusters", {"name": "cl2", "domain": "example.com", "colour": "blue"})
    assert status == 400 and "unknown parameter(s) colour" in reply["message"]
    status, reply = client.call("PATCH", "/api/v1/clusters/cl1", {"settings": {"swift_part_power": "high"}})
    assert status == 400
    status, reply = client.call("DELETE", "/api/v1/networks/net1")
    assert status == 409 and "attached to cluster cl1" in reply["message"]


def test_changes_are_audited_without_secrets(site):
    token = tokens.create(site, "ops", NOW)
    client = Client(site, token=token)
    client.call("POST", "/api/v1/roles", {"name": "custom1"})
    client.call("POST", "/api/v1/roles", {"name": "vm-net"})  # refused, audited too
    client.call("GET", "/api/v1/roles")  # reads are not changes
    lines = [json.loads(line) for line in (site.root / "audit.log").read_text().splitlines()]
    mine = [entry for entry in lines if entry["actor"] == "token:ops"]
    assert [(e["operation"], e["params"], e["outcome"][:7]) for e in mine] == [
        ("role_create", {"name": "custom1"}, "ok"), ("role_create", {"name": "vm-net"}, "refused")]  # fmt: skip
    assert token not in (site.root / "audit.log").read_text()
    assert oct((site.root / "audit.log").stat().st_mode & 0o777) == "0o600"


def test_a_machine_may_only_change_its_own_record(site):
    client = Client(site)
    # 192.168.101.2 is C1's management address: it may report for C1, not for C2
    status, reply = client.post_json("/api/v1/status", {"serial": "C2", "status": "installed"}, remote="192.168.101.2")
    assert status == 403 and "belongs to machine C1" in reply["message"]
    status, _ = client.post_json("/api/v1/status", {"serial": "C1", "status": "installed"}, remote="192.168.101.2")
    assert status == 200  # and the networks OCI manages are trusted


@pytest.fixture
def fuzz_token(site):
    return tokens.create(site, "fuzz", NOW)


operation_names = st.sampled_from(sorted(op.name for op in HTTP_OPERATIONS))
json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.sampled_from(["C1", "cl1", "net1", "loc1", "../x", ""])
json_values = st.recursive(
    json_scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=10
)
path_values = st.sampled_from(["C1", "C2", "cl1", "net1", "nope", "..", "%2e%2e", "a b", "x" * 300, "192.168.101.2"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=operation_names, body=st.dictionaries(st.sampled_from(["name", "domain", "cluster", "role", "location", "settings", "unset",
       "changes", "network", "address", "ip", "cidr", "public", "hostname", "fixed_ip", "iface1", "swift_region", "junk"]), json_values,
       max_size=5) | json_values, segment=path_values)  # fmt: skip
def test_fuzzed_requests_never_5xx_and_refusals_change_nothing(site, fuzz_token, name, body, segment):
    client = Client(site, token=fuzz_token)
    operation = OPERATIONS[name]
    path = f"/api/v1{operation.path}"
    for param in operation.path_params:
        path = path.replace(f"<{param}>", segment)
    before = state_files(site)
    status, reply = client.call(operation.method, path, body=body)
    assert status < 500, reply
    assert reply["status"] in ("success", "error")
    if status != 200:
        assert state_files(site) == before
