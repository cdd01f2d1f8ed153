"""Property-based fuzzing of every input surface (issue #14 point 5): 0 replies >= 500, 0 tracebacks.

* the report bodies, version 1 and OCI 42, with hostile values at every key the parsers read;
* every admin route of the operations table, through the in-process WSGI app with a valid token, with
  hostile path segments and parameters built from each operation's own parameter list;
* every operation through ``operations.execute`` (ocicli's local mode), with values only a Python caller
  can pass (NaN, infinities, unpaired surrogates, huge integers, tuples).

Hypothesis runs derandomized and without its example database, so every run tries the same examples and
a failure reproduces as it is; the example counts keep the whole file well under a minute.
"""

from __future__ import annotations

import json
import logging
import math
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, state_files
from oci import operations
from oci.errors import OciError
from oci.model.settings import CLUSTER_SETTINGS, MACHINE_SETTINGS
from oci.operations import OPERATIONS
from oci.service import tokens
from oci.service.networks import SETTABLE
from oci.store import Store
from wsgi_client import Client

FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))

# Values that broke, or could break, a parser: digits that are not ASCII, non-finite numbers (the marker
# becomes a bare 1e999 in the JSON text), unpaired surrogates, paths, controls, overlong text.
HOSTILE_TEXT = ["²", "٣", "１２", "1_000", " 7 ", "\ud800", "x\udfffy", "1e999", "nan", "inf", "-1", "0", "", " ", "../../etc/x",
                "/etc/passwd", "a\nb", "a\r\nb", "\x00", "\x9b2J", "\u2028", "\u202e", "x" * 300, "%2e%2e", "yes", "none",
                "__1e999__"]  # fmt: skip
HOSTILE_NUMBERS = [10**400, -(2**63) - 1, 2**64, 1.5, -0.0, 1e300, True, False]
json_scalar = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(HOSTILE_TEXT)
    | st.sampled_from(HOSTILE_NUMBERS)
)
json_value = st.recursive(
    json_scalar, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=8
)
hostile = st.sampled_from(HOSTILE_TEXT + HOSTILE_NUMBERS)
field = st.one_of(hostile, hostile, hostile, json_scalar)  # nested one_of flattens: a hostile value 3 times in 10


def encode(document):
    """JSON text as a hostile client writes it: NaN/Infinity as json.dumps writes them, and bare 1e999."""
    return json.dumps(document).replace('"__1e999__"', "1e999").encode()


def assert_no_traceback(caplog):
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    caplog.clear()
    assert not errors, errors[0].getMessage()


# ------------------------------------------------------------------------------------------------ reports
def entries(keys):
    return st.lists(st.fixed_dictionaries({}, optional={k: field for k in keys}) | json_value, max_size=3)


v1_bodies = st.fixed_dictionaries(
    {
        "version": st.sampled_from([1, 1, 1, 1, 1, 1, 1, "1", 2, None]),
        "serial": st.sampled_from(["C1", "c-2.x_3", "C1", "c-2.x_3", "../x", 42]),
    },
    optional={
        "serial_source": st.sampled_from(["system", "mac"]) | field,
        "system": st.fixed_dictionaries({}, optional={k: field for k in ("manufacturer", "product_name", "uefi", "secure_boot")}),
        "cpu": st.fixed_dictionaries({}, optional={k: field for k in ("vendor", "model", "sockets", "threads", "mhz")}),
        "memory": st.fixed_dictionaries({}, optional={k: field for k in ("total_mb", "dimm_type", "speed")}) | json_value,
        "disks": entries(("name", "size_bytes", "realdev", "model", "rotational")),
        "nics": entries(("name", "mac", "speed_mbps", "driver", "switch_port")),
        "storage_controllers": entries(("id", "vendor", "kind")),
        "raid_drives": entries(("slot", "size_bytes", "state")),
        "bmc": st.fixed_dictionaries({}, optional={k: field for k in ("address", "firmware", "mac")}) | json_value,
        "errors": st.lists(field, max_size=3) | json_value,
        "extra": json_value,
    },
)
oci42_bodies = st.fixed_dictionaries(
    {"machine": st.lists(st.fixed_dictionaries({"serial": st.sampled_from(["C1", "7XK2ND2", "C1", "7XK2ND2", "a/b", None])}, optional={
        k: field for k in ("cpu_threads", "cpu_sockets", "cpu_mhz", "productname", "boot_uefi", "ipmi_detected_ip")}),
        min_size=1, max_size=1)},
    optional={
        "memory": st.lists(st.fixed_dictionaries({}, optional={"size": field, "type": field}), max_size=1) | json_value,
        "blockdevices": entries(("name", "size", "realdev", "model")),
        "interfaces": entries(("name", "macaddr", "max_speed", "switch_hostname")),
        "phys-blockdevices": entries(("slot", "size", "state")),
        "blkdev_ctrl": entries(("hwid", "ctrl_type")),
    },
)  # fmt: skip


@settings(FUZZ, max_examples=300)
@given(
    body=st.tuples(st.just("/api/v1/report"), st.one_of(v1_bodies, v1_bodies, v1_bodies, json_value))
    | st.tuples(st.just("/oci/report.php"), st.one_of(oci42_bodies, oci42_bodies, oci42_bodies, json_value))
)
def test_fuzzed_report_bodies_never_5xx(tmp_path_factory, caplog, body):
    path, document = body
    store = Store(Path(tmp_path_factory.mktemp("fuzz")), lock_timeout=10)
    status, headers, payload = Client(store).request("POST", path, encode(document))
    reply = json.loads(payload)
    assert status < 500, reply
    assert reply["status"] == ("success" if status == 200 else "error") and "\n" not in reply["message"]
    assert_no_traceback(caplog)


# ------------------------------------------------------------------------------------------- admin routes
# Plausible values per parameter name (so that fuzzing reaches the services, not only the first check).
PLAUSIBLE = {
    "machine": ["C1", "C2", "cl1-controller-1.example.com"], "serial": ["C2", "C1"], "cluster": ["cl1"], "name": ["cl1", "net1", "spare",
    "r1", "loc1", "custom1", "cl2"], "domain": ["example.com"], "role": ["compute", "controller", "all"], "location": ["loc1"],
    "network": ["net1"], "address": ["192.168.101.9", "10.1.0.5"], "ip": ["10.1.0.0"], "cidr": ["24", "16"], "public": ["yes", "no"],
    "iface1": ["eth0"], "iface2": ["eth1", "none"], "fixed_ip": ["192.168.101.20"], "hostname": ["h1.example.com"], "use": ["no"],
    "port": ["623"], "user": ["root"], "password": ["calvin"], "verb": ["power-status", "info"], "swift_region": ["r1"],
    "first_master": ["C1"], "filter": ["C"], "all": ["yes", "no"], "host": ["cl1-controller-1.example.com"],
    "operation": ["machine_add", "cluster_set"],
}  # fmt: skip
text_value = st.sampled_from(HOSTILE_TEXT) | st.text(max_size=10)


def setting_values(table):
    return st.dictionaries(st.sampled_from([*table, "bogus"]), json_scalar | st.sampled_from(["ttyS0", "sda", "http://m/debian", "1.5"]),
                           max_size=3)  # fmt: skip


DICTS = {
    "settings": setting_values(MACHINE_SETTINGS) | setting_values(CLUSTER_SETTINGS),
    "changes": st.dictionaries(st.sampled_from([*SETTABLE, "bogus"]), json_scalar | st.sampled_from(["100", "9000", "none", "eth1"]),
                               max_size=3),
    "params": st.dictionaries(st.sampled_from(["serial", "cluster", "role", "location", "name", "settings"]), json_value, max_size=4),
}  # fmt: skip


def param_value(param):
    plausible = st.sampled_from(PLAUSIBLE.get(param.name, ["x"]))
    if param.type == "dict":
        return DICTS.get(param.name, st.dictionaries(st.text(max_size=6), json_value, max_size=3)) | json_value
    if param.type == "list":
        return st.lists(st.sampled_from([*MACHINE_SETTINGS, "notes", "bogus"]) | json_scalar, max_size=3) | json_value
    return plausible | plausible | text_value | json_value


@st.composite
def requests(draw):
    operation = OPERATIONS[draw(st.sampled_from(sorted(name for name, op in OPERATIONS.items() if not op.local_only)))]
    optional = {p.name: param_value(p) for p in operation.params}
    optional["junk"] = json_value
    params = draw(st.fixed_dictionaries({}, optional=optional))
    return operation, params


def segment(value):
    """A path value as the HTTP server hands it to the app: percent-decoded, as latin-1 text of its bytes."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


def no_bmc_to_reach(store):
    """A fuzzed machine-set-ipmi may record a BMC that answers somewhere (a host name, an address): forget
    it, so no later command sends a packet anywhere but loopback."""
    for path in (store.root / "bmc").glob("*.yaml"):
        path.unlink()


@pytest.fixture
def token(site):
    return tokens.create(site, "fuzz", NOW)


@settings(FUZZ, max_examples=250)
@given(request=requests())
def test_fuzzed_admin_routes_never_5xx_and_refusals_change_nothing(site, token, caplog, request):
    operation, params = request
    path = f"/api/v1{operation.path}"
    body = dict(params)
    for name in operation.path_params:
        path = path.replace(f"<{name}>", segment(body.pop(name, "C1")))
    query = ""
    if operation.method == "GET":
        texts = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        query = "?" + urllib.parse.urlencode(texts, errors="surrogatepass")
        raw = b""
    else:
        raw = encode(body)
    before = state_files(site)
    try:
        client = Client(site)
        status, headers, payload = client.request(operation.method, path + query, raw, remote="10.20.30.40", token=token, scheme="https")
    finally:
        no_bmc_to_reach(site)
    assert status < 500, payload
    assert headers["Content-Type"].startswith("application/json") or operation.name == "enc_show", headers
    assert_no_traceback(caplog)
    if status != 200:
        assert state_files(site) == before, (operation.name, payload)


# ---------------------------------------------------------------------------------------------- local mode
python_only = st.sampled_from([math.nan, math.inf, -math.inf, "\ud800", "a\udcffb", 10**5000, (1, 2), b"bytes", {1: "x"}])


@st.composite
def local_calls(draw):
    operation = OPERATIONS[draw(st.sampled_from(sorted(OPERATIONS)))]
    optional = {p.name: param_value(p) | python_only for p in operation.params}
    params = draw(st.fixed_dictionaries({}, optional=optional))
    if operation.params and draw(st.booleans()):  # a Python-only value inside a dict or a list, too
        name = draw(st.sampled_from([p.name for p in operation.params]))
        params[name] = draw(st.dictionaries(st.sampled_from(["cpu_allocation_ratio", "notes", "vlan", "mtu"]), python_only, min_size=1))
    return operation, params


@settings(FUZZ, max_examples=200)
@given(call=local_calls())
def test_fuzzed_local_calls_raise_only_oci_errors_and_keep_the_audit_log_strict(site, caplog, call):
    operation, params = call
    message = ""
    try:
        operations.execute(site, operation.name, params)
    except OciError as exc:  # the only kind of error bad input may cause
        message = exc.message
    finally:
        no_bmc_to_reach(site)
    assert "\n" not in message
    assert_no_traceback(caplog)
    log = site.root / "audit.log"
    if operation.mutating and log.exists():

        def strict(name):
            raise ValueError(f"{name} is not strict JSON")

        last = log.read_text().splitlines()[-1]
        entry = json.loads(last, parse_constant=strict)
        assert entry["operation"] == operation.name and entry["outcome"].split(":")[0] in ("ok", "refused")
