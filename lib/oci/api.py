"""The HTTP API: an explicit ``Bottle()`` application over the service layer.

Every reply is a JSON envelope ``{"status": "success"|"error", "message": ..., "data": ...}`` with a real
HTTP status (the reference always answers 200). Errors raised by the library become 4xx replies naming the
problem; anything unexpected becomes a 500 with a generic message (the traceback goes to the server log,
never to the client).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import ipaddress
import json
import logging
import math
import re
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import bottle

from oci import names, operations, templates, values
from oci.boot import ipxe
from oci.boot.site import BootSite
from oci.config import Config
from oci.enc import refresh as enc_refresh
from oci.errors import Forbidden, InvalidInput, NotFound, OciError, PayloadTooLarge, Unauthorized
from oci.model import AllocationKind, Network
from oci.operations import OPERATIONS, Operation
from oci.pki import nodesig
from oci.puppet import report as puppet_report
from oci.ratelimit import NewMachineLimit
from oci.report import oci42, v1
from oci.service import automation, boot, identity, reports, sshkeys, status, tokens
from oci.store import Store

MAX_BODY_BYTES = 1024 * 1024
MAX_LARGE_BODY_BYTES = puppet_report.MAX_REPORT_BYTES  # the one route with larger bodies: Puppet's reports
RAW_BODY = "oci.raw_body"
API = "/api/v1"
LOG = logging.getLogger("oci.api")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _reply(status: int, envelope: dict[str, Any]) -> bottle.HTTPResponse:
    body = json.dumps(envelope, sort_keys=True)
    return bottle.HTTPResponse(body=body, status=status, headers={"Content-Type": "application/json"})


def error_reply(status: int, message: str, hint: str | None = None) -> bottle.HTTPResponse:
    envelope: dict[str, Any] = {"status": "error", "message": message, "data": None}
    if hint:
        envelope["hint"] = hint
    return _reply(status, envelope)


def success(data: Any, message: str = "ok") -> bottle.HTTPResponse:
    return _reply(200, {"status": "success", "message": message, "data": data})


def _guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Bottle plugin: library errors become JSON 4xx replies, anything else a JSON 500."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = callback(*args, **kwargs)
        except bottle.HTTPResponse:
            raise
        except OciError as exc:
            result = error_reply(exc.status_code, exc.message, exc.hint)
        except Exception:
            LOG.error("unhandled error on %s %s\n%s", bottle.request.method, bottle.request.path, traceback.format_exc())
            result = error_reply(500, "internal error: see the server log")
        if LOG.isEnabledFor(logging.DEBUG):  # oci-api --debug: one line per request (never the body: it may hold secrets)
            request = bottle.request
            status = result.status_code if isinstance(result, bottle.HTTPResponse) else bottle.response.status_code
            query = f"?{request.query_string}" if request.query_string else ""
            LOG.debug("%s %s %s%s -> %d", request.remote_addr, request.method, request.path, query, status)
        return result

    return wrapper


def read_body(limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, at most ``limit`` bytes."""
    environ = bottle.request.environ
    length_text = environ.get("CONTENT_LENGTH") or ""
    try:
        length = int(length_text) if length_text else None
    except ValueError:
        raise InvalidInput("invalid Content-Length") from None
    if length is not None and length > limit:
        raise PayloadTooLarge(f"request body of {length} bytes is larger than {limit}")
    stream = environ["wsgi.input"]
    raw: bytes = stream.read(limit + 1 if length is None else length)
    if len(raw) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    return raw


def read_json(allow_empty: bool = False) -> Any:
    """The request body as JSON, at most MAX_BODY_BYTES (an empty body is ``{}`` when allowed)."""
    environ = bottle.request.environ
    raw = read_body()
    environ[RAW_BODY] = raw  # what a node's signature covers (oci.pki.nodesig)
    if not raw:
        if allow_empty:
            return {}
        raise InvalidInput("empty request body: a JSON document was expected")

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    def finite_only(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):  # 1e999: valid JSON syntax, but no state file or JSON reply can hold it
            raise ValueError(f"{text[:20]} is not a finite number")
        return value

    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=no_constants, parse_float=finite_only)
    except UnicodeDecodeError:
        raise InvalidInput("request body is not UTF-8") from None
    except RecursionError:
        raise InvalidInput("request body is nested too deeply") from None
    except ValueError as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    # An escaped unpaired surrogate ("\ud800") decodes to a str no UTF-8 writer accepts; only a body with
    # such an escape needs the walk (a paired escape, an emoji, passes it).
    if _SURROGATE_ESCAPE.search(raw):
        values.check_data(document, "request body")
    return document


def parse_ipv4(value: object, what: str) -> ipaddress.IPv4Address:
    try:
        if not isinstance(value, str):
            raise ValueError
        return ipaddress.IPv4Address(value)
    except ValueError:
        raise InvalidInput(f"{what}: {str(value)[:40]!r} is not an IPv4 address") from None


def client_address() -> ipaddress.IPv4Address | None:
    """The peer's address (REMOTE_ADDR, never X-Forwarded-For, which any client can write)."""
    try:
        address = ipaddress.ip_address(bottle.request.environ.get("REMOTE_ADDR", ""))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        return address.ipv4_mapped
    return address


def require_https_or_plain_admin_source(networks: Sequence[ipaddress.IPv4Network]) -> None:
    """Admin requests carry a bearer token: over plain HTTP, accept them only from ``networks`` (loopback by
    default, where the token does not cross a network). The scheme is the server's word (``wsgi.url_scheme``:
    the TLS server and Apache set it), never a header a client writes."""
    if bottle.request.environ.get("wsgi.url_scheme") == "https":
        return
    address = client_address()
    if address is None and bottle.request.environ.get("REMOTE_ADDR") == "::1":
        address = ipaddress.IPv4Address("127.0.0.1")  # IPv6 loopback is loopback
    if address is None or not any(address in network for network in networks):
        allowed = ", ".join(map(str, networks)) or "no network"
        raise Forbidden(
            f"admin requests over plain HTTP are accepted only from {allowed}: use HTTPS",
            hint="see [api] plain_http_admin_networks",
        )


def report_sources(cfg: Config) -> list[ipaddress.IPv4Network]:
    """Where the Puppet server's reports may come from over plain HTTP: the admin networks, and the master's own
    addresses (``oci_ip``, the API's listen address), at which the server on this host reaches an API that listens
    on the provisioning address only. Such a connection never leaves the host, and the kernel drops a packet
    from outside that claims a local source address."""
    local = [cfg.master_address] if cfg.master_address else []
    with contextlib.suppress(ValueError):
        listen = ipaddress.ip_address(cfg.listen[0])
        if isinstance(listen, ipaddress.IPv4Address) and not listen.is_unspecified:
            local.append(listen)
    return [*cfg.plain_http_admin_networks, *(ipaddress.IPv4Network(address) for address in local)]


def require_report_credentials(store: Store, header: str | None) -> None:
    """The Puppet server's basic auth (docs/puppet-runs.md, "The reports"): its user and the token
    oci-puppet-setup made, compared in constant time."""
    hint = "the Puppet server's reporturl carries them (oci-puppet-setup)"
    token = store.read_blob(*puppet_report.REPORT_TOKEN)
    if token is None or not token.strip():
        raise Unauthorized("Puppet reports are not set up on this master", hint="run oci-puppet-setup")
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise Unauthorized("authentication required: the Puppet server's basic auth", hint=hint)
    try:
        user, _, presented = base64.b64decode(encoded.strip(), validate=True).partition(b":")
    except (binascii.Error, ValueError):
        raise Unauthorized("authentication required: the Puppet server's basic auth", hint=hint) from None
    matches = hmac.compare_digest(presented, token.strip())
    if not (hmac.compare_digest(user, puppet_report.REPORT_USER.encode()) and matches):
        raise Unauthorized("invalid Puppet report credentials", hint=hint)


DEFAULT_TRUSTED = (ipaddress.IPv4Network("127.0.0.0/8"),)


def make_app(
    store: Store,
    now: Callable[[], datetime] = utcnow,
    trusted: Sequence[ipaddress.IPv4Network] = DEFAULT_TRUSTED,
) -> bottle.Bottle:
    """The application. ``trusted``: networks whose nodes may use the node endpoints (reports, statuses),
    besides the networks OCI manages."""
    app = bottle.Bottle(catchall=False)
    app.install(_guarded)
    enc_refresh.follow_configuration(store)  # the configuration is read once, here: its changes reach the ENC now

    def _trusted_source(networks: Sequence[Network] | None = None) -> ipaddress.IPv4Address:
        """The requesting node's address, if it is on a trusted network (configured, provisioning, or OCI's)."""
        address = client_address()
        managed = [net.subnet for net in (store.all(Network) if networks is None else networks)]
        provisioning = [store.config.provisioning_network] if store.config.provisioning_network else []
        if address is None or not any(address in n for n in (*trusted, *provisioning, *managed)):
            raise Forbidden(f"{bottle.request.environ.get('REMOTE_ADDR')} is not in a trusted network", hint="see [api] trusted_networks")
        return address

    nonces = nodesig.NonceCache()
    new_machines = NewMachineLimit()

    def node_source(serial: object, route: str) -> tuple[ipaddress.IPv4Address, bool]:
        """The requesting node's address, if it may speak for ``serial`` (docs/security.md, "Node trust"), and
        whether ``serial`` is a machine OCI does not know yet. Forbidden or Conflict otherwise."""
        names.serial(serial)
        assert isinstance(serial, str)
        networks = store.all(Network)
        address = _trusted_source(networks)
        when = now()
        for network in networks:  # an address OCI gave to a machine speaks only for that machine
            for allocation in network.allocations:
                if allocation.address == address and allocation.kind is not AllocationKind.VIP and allocation.owner != serial:
                    if store.exists_machine(serial):
                        identity.record_conflict(store, serial, str(address), route, when)
                    raise Forbidden(f"{address} belongs to machine {allocation.owner}, which cannot report for {serial}")
        request = bottle.request
        target = request.fullpath + (f"?{request.query_string}" if request.query_string else "")
        headers = {h: request.get_header(h, "") for h in nodesig.HEADERS}
        proof = nodesig.proof_from_headers(headers, request.method, target, request.environ.get(RAW_BODY, b""), nonces)
        return address, identity.check(store, serial, address, route, when, proof, networks)

    def report(parsed: v1.ParsedReport, bmc: bool) -> Any:
        source, new = node_source(parsed.serial, "report")
        if new:  # nothing is written for a source over its share
            new_machines.admit(source, now(), store.config.new_machines_per_source_per_minute)
        recorded = reports.record(store, parsed, source, now(), bmc=bmc)
        # The automatic step this report's count sets off, if any (docs/automation.md): after the report is kept.
        automation.after_report(store, parsed.serial, operations.execute)
        return success(recorded)

    @app.post("/api/v1/report")
    def report_v1() -> Any:
        return report(v1.parse(read_json()), bmc=True)

    @app.post("/oci/report.php")
    def report_oci42() -> Any:
        return report(v1.parse(oci42.to_v1(read_json())), bmc=False)

    @app.post("/api/v1/status")
    def status_v1() -> Any:
        body = read_json()
        if not isinstance(body, dict):
            raise InvalidInput("status: expected a JSON object")
        if body.get("version", 1) != 1:
            raise InvalidInput(f"status: unsupported schema version {body.get('version')!r}")
        unknown = set(body) - {"version", "serial", "status", "address", "step", "seconds", "error"}
        if unknown:
            raise InvalidInput(f"status: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        if "serial" not in body or "status" not in body:
            raise InvalidInput("status: 'serial' and 'status' are required")
        reported = parse_ipv4(body["address"], "address") if body.get("address") is not None else None
        source, _ = node_source(body["serial"], "status")
        return success(
            status.record(store, body["serial"], body["status"], reported or source, now(),
                          step=body.get("step"), seconds=body.get("seconds"), error=body.get("error"))
        )  # fmt: skip

    @app.get("/oci/install-status.php")
    def status_oci42() -> Any:
        query = bottle.request.query
        serial = query.get("chassis-serial") or status.serial_of_address(store, client_address())
        source, _ = node_source(serial, "status")
        reported = parse_ipv4(query.get("ipaddr"), "ipaddr") if query.get("ipaddr") else None
        return success(status.record(store, serial, query.get("status", ""), reported or source, now()))

    @app.post("/api/v1/ssh/host-key")
    def ssh_host_key() -> Any:
        body = read_json()
        if not isinstance(body, dict) or set(body) - {"serial", "public_key"} or not isinstance(body.get("public_key"), str):
            raise InvalidInput('host key: expected {"serial": ..., "public_key": "ssh-ed25519 ..."}')
        serial = body.get("serial")
        if not isinstance(serial, str):
            raise InvalidInput("host key: 'serial' is required")
        source, _ = node_source(serial, "host-key")
        return success(sshkeys.sign_host_key(store, serial, body["public_key"], source))

    @app.get("/boot/ipxe")
    def boot_ipxe() -> Any:
        """The iPXE script of the machine asking (text, not the JSON envelope: iPXE runs it)."""
        site = BootSite.from_config(store.config)
        _trusted_source()
        query = bottle.request.query
        bottle.response.content_type = "text/plain; charset=utf-8"
        chosen = templates.load(store.config.templates_dir)
        if not query.get("mac") and not query.get("serial"):
            return ipxe.entry_script(site, chosen)
        machine = boot.find(store, query.get("mac"), query.get("serial"), client_address())
        return ipxe.script(site, machine, chosen)

    @app.get("/boot/live/<filename>")
    def boot_live(filename: str) -> Any:
        name = filename
        _trusted_source()
        if name not in ipxe.LIVE_FILES:
            raise NotFound(f"no live image file named {name!r}", hint="one of " + ", ".join(ipxe.LIVE_FILES))
        if not (store.config.live_dir / name).is_file():
            raise NotFound(f"the live image has no {name} in {store.config.live_dir}", hint="build it with make live-image")
        return bottle.static_file(name, root=str(store.config.live_dir), mimetype="application/octet-stream")

    @app.post("/api/v1/puppet/report")
    def puppet_report_v1() -> Any:
        """A run report, from the Puppet server's http report processor (not from nodes: it holds the token)."""
        require_https_or_plain_admin_source(report_sources(store.config))
        require_report_credentials(store, bottle.request.get_header("Authorization"))
        try:
            text = read_body(MAX_LARGE_BODY_BYTES).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("Puppet report: not UTF-8") from None
        certname, run = puppet_report.parse(text)
        return success(status.record_puppet_run(store, certname, run, now()))

    @app.get("/api/v1/health")
    def health() -> Any:
        return success({"state_dir": "ok" if store.root.is_dir() else "missing"})

    for operation in OPERATIONS.values():
        if operation.local_only:
            continue  # on the master only (oci-token, oci-pki): no route, so no token reaches them
        app.route(f"{API}{operation.path}", method=operation.method, callback=_admin_route(store, operation))

    # 400: bottle's own, for a percent-encoded path that is not UTF-8 (the only 400 it makes itself).
    pages = ((400, "invalid request path: it is not UTF-8"), (404, "no such endpoint"), (405, "method not allowed on this endpoint"))
    for code, message in pages:
        app.error(code)(_error_page(code, message))
    return app


def _admin_route(store: Store, operation: Operation) -> Callable[..., Any]:
    """An operator operation over HTTP: a bearer token, then the same ``execute`` as ocicli's local mode."""

    def handler(**path_params: str) -> Any:
        require_https_or_plain_admin_source(store.config.plain_http_admin_networks)
        actor = tokens.authenticate(store, bottle.request.get_header("Authorization"))
        if operation.method == "GET":
            params: dict[str, Any] = {k: bottle.request.query.getunicode(k) for k in bottle.request.query}
        else:
            params = read_json(allow_empty=True)
            if not isinstance(params, dict):
                raise InvalidInput(f"{operation.name}: the body must be a JSON object")
        clash = sorted(set(params) & set(path_params))
        if clash:
            raise InvalidInput(f"{operation.name}: {', '.join(clash)} given both in the path and the body")
        params.update(path_params)
        return success(operations.execute(store, operation.name, params, actor=f"token:{actor}"))

    return handler


def _error_page(code: int, message: str) -> Callable[[bottle.HTTPError], str]:
    def handler(err: bottle.HTTPError) -> str:
        bottle.response.content_type = "application/json"
        return json.dumps({"status": "error", "message": message, "data": None}, sort_keys=True)

    return handler
