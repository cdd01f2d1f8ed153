"""The HTTP API: an explicit ``Bottle()`` application over the service layer.

Every reply is a JSON envelope ``{"status": "success"|"error", "message": ..., "data": ...}`` with a real
HTTP status (the reference always answers 200). Errors raised by the library become 4xx replies naming the
problem; anything unexpected becomes a 500 with a generic message (the traceback goes to the server log,
never to the client).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import bottle

from oci.errors import InvalidInput, OciError, PayloadTooLarge
from oci.report import oci42, v1
from oci.service import reports, status
from oci.store import Store

MAX_BODY_BYTES = 1024 * 1024
LOG = logging.getLogger("oci.api")


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
            return callback(*args, **kwargs)
        except bottle.HTTPResponse:
            raise
        except OciError as exc:
            return error_reply(exc.status_code, exc.message, exc.hint)
        except Exception:
            LOG.error("unhandled error on %s %s\n%s", bottle.request.method, bottle.request.path, traceback.format_exc())
            return error_reply(500, "internal error: see the server log")

    return wrapper


def read_json() -> Any:
    """The request body as JSON, at most MAX_BODY_BYTES."""
    environ = bottle.request.environ
    length_text = environ.get("CONTENT_LENGTH") or ""
    try:
        length = int(length_text) if length_text else None
    except ValueError:
        raise InvalidInput("invalid Content-Length") from None
    if length is not None and length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body of {length} bytes is larger than {MAX_BODY_BYTES}")
    stream = environ["wsgi.input"]
    raw = stream.read(MAX_BODY_BYTES + 1 if length is None else length)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"request body is larger than {MAX_BODY_BYTES} bytes")
    if not raw:
        raise InvalidInput("empty request body: a JSON document was expected")

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except UnicodeDecodeError:
        raise InvalidInput("request body is not UTF-8") from None
    except RecursionError:
        raise InvalidInput("request body is nested too deeply") from None
    except ValueError as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None


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


def make_app(store: Store, now: Callable[[], datetime] = utcnow) -> bottle.Bottle:
    app = bottle.Bottle(catchall=False)
    app.install(_guarded)

    @app.post("/api/v1/report")
    def report_v1() -> Any:
        parsed = v1.parse(read_json())
        return success(reports.record(store, parsed, client_address(), now()))

    @app.post("/oci/report.php")
    def report_oci42() -> Any:
        parsed = v1.parse(oci42.to_v1(read_json()))
        return success(reports.record(store, parsed, client_address(), now()))

    @app.post("/api/v1/status")
    def status_v1() -> Any:
        body = read_json()
        if not isinstance(body, dict):
            raise InvalidInput("status: expected a JSON object")
        if body.get("version", 1) != 1:
            raise InvalidInput(f"status: unsupported schema version {body.get('version')!r}")
        unknown = set(body) - {"version", "serial", "status", "address"}
        if unknown:
            raise InvalidInput(f"status: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        if "serial" not in body or "status" not in body:
            raise InvalidInput("status: 'serial' and 'status' are required")
        reported = parse_ipv4(body["address"], "address") if body.get("address") is not None else None
        result = status.record(store, body["serial"], body["status"], reported or client_address(), now())
        return success(result)

    @app.get("/oci/install-status.php")
    def status_oci42() -> Any:
        query = bottle.request.query
        serial = query.get("chassis-serial") or status.serial_of_address(store, client_address())
        reported = parse_ipv4(query.get("ipaddr"), "ipaddr") if query.get("ipaddr") else None
        return success(status.record(store, serial, query.get("status", ""), reported or client_address(), now()))

    @app.get("/api/v1/health")
    def health() -> Any:
        return success({"state_dir": "ok" if store.root.is_dir() else "missing"})

    for code, message in ((404, "no such endpoint"), (405, "method not allowed on this endpoint")):
        app.error(code)(_error_page(code, message))
    return app


def _error_page(code: int, message: str) -> Callable[[bottle.HTTPError], str]:
    def handler(err: bottle.HTTPError) -> str:
        bottle.response.content_type = "application/json"
        return json.dumps({"status": "error", "message": message, "data": None}, sort_keys=True)

    return handler
