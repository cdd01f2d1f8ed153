"""Where ocicli's operations run: on the state directory (local mode) or through the HTTP API.

Both take an operation name and its parameters (``oci.operations``) and return the same JSON data, or raise
the same error types with the same messages, so ``ocicli`` prints the same thing and exits with the same
code either way.
"""

from __future__ import annotations

import json
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from oci import operations
from oci.enc import refresh as enc_refresh
from oci.errors import Conflict, Forbidden, InvalidInput, NotFound, OciError, PayloadTooLarge, Unauthorized
from oci.operations import OPERATIONS
from oci.store import Store

E = TypeVar("E", bound=BaseException)

_ERRORS: dict[int, type[OciError]] = {
    400: InvalidInput,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
}


class Backend(Protocol):
    def call(self, operation: str, /, **params: Any) -> Any: ...


@dataclass
class LocalBackend:
    store: Store

    def call(self, operation: str, /, **params: Any) -> Any:
        if operations.OPERATIONS[operation].mutating:  # as oci-api does at start: a changed configuration reaches the ENC
            enc_refresh.follow_configuration(self.store)
        return operations.execute(self.store, operation, {k: v for k, v in params.items() if v is not None})


@dataclass
class HttpBackend:
    url: str  # e.g. https://oci.example.com:8443
    token: str | None
    ca_file: Path | None = None
    timeout: float = 120.0

    def __post_init__(self) -> None:
        parsed = urllib.parse.urlsplit(self.url if "://" in self.url else f"http://{self.url}")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InvalidInput(f"invalid API URL {self.url!r}", hint="use http(s)://HOST[:PORT]")
        self._scheme, self._host, self._netloc = parsed.scheme, parsed.hostname, parsed.netloc.rpartition("@")[2]
        self._base = parsed.path.rstrip("/")
        if self.token is not None and not (self.token.isascii() and self.token.isprintable() and " " not in self.token):
            # Refused before any request: an error about a header must not quote the token.
            raise InvalidInput("the API token holds characters no token has", hint="check the token file or OCI_API_TOKEN")

    def call(self, name: str, /, **params: Any) -> Any:
        operation = OPERATIONS[name]
        if operation.local_only:
            raise InvalidInput(f"{name} runs only on the master (local mode)", hint="run it there, without --api-url")
        params = {k: v for k, v in params.items() if v is not None}
        path = operation.path
        for key in operation.path_params:
            if key not in params:
                raise InvalidInput(f"{name}: parameter '{key}' is required")
            value = str(params.pop(key))
            operation.check_path_value(key, value)
            path = path.replace(f"<{key}>", urllib.parse.quote(value, safe=""))
        target = f"{self._scheme}://{self._netloc}{self._base}/api/v1{path}"
        body = None
        headers = {"Accept": "application/json"}
        if operation.method == "GET":
            if params:
                target += "?" + urllib.parse.urlencode(params)
        else:
            body = json.dumps(params).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        import requests  # here: local mode (on the master, most commands) does without it

        with requests.Session() as session:
            # Nothing from the environment (proxies, .netrc, REQUESTS_CA_BUNDLE): the token goes to the URL
            # given and nowhere else, and the CA is the one given (or the system's).
            session.trust_env = False
            try:
                response = session.request(
                    operation.method,
                    target,
                    data=body,
                    headers=headers,
                    timeout=max(self.timeout, operation.reply_within),
                    verify=str(self.ca_file) if self.ca_file else True,
                    allow_redirects=False,  # a redirect would carry the token elsewhere: it is an answer like any other
                )
                raw: bytes = response.content
                status_code: int = response.status_code
            except requests.exceptions.SSLError as exc:
                unverified = _find(exc, ssl.SSLCertVerificationError)
                if unverified is not None:
                    reason = unverified.verify_message
                    raise OciError(f"cannot verify the API server {self._host}: {reason}", hint="give its CA with --ca-file") from None
                raise OciError(f"cannot reach the API at {self.url}: {_find(exc, ssl.SSLError) or exc}") from None
            except requests.Timeout:
                waited = max(self.timeout, operation.reply_within)
                raise OciError(f"cannot reach the API at {self.url}: timed out (no answer within {waited:g} s)") from None
            except (requests.RequestException, OSError) as exc:
                raise OciError(f"cannot reach the API at {self.url}: {_reason(exc)}") from None
        try:
            envelope = json.loads(raw)
            status = envelope["status"]
        except (ValueError, KeyError, TypeError):
            raise OciError(f"the API at {self.url} answered HTTP {status_code} without a JSON envelope") from None
        if status_code == 200 and status == "success":
            return envelope.get("data")
        error = _ERRORS.get(status_code, OciError)
        raise error(str(envelope.get("message", f"HTTP {status_code}")), hint=envelope.get("hint"))


def _find(exc: BaseException, kind: type[E]) -> E | None:
    """The ``kind`` error at the root of ``exc`` (requests wraps urllib3's, which wraps the ssl module's)."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        current = todo.pop()
        if isinstance(current, kind):
            return current
        if id(current) in seen:
            continue
        seen.add(id(current))
        todo += [
            e
            for e in (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args)
            if isinstance(e, BaseException)
        ]
    return None


def _reason(exc: BaseException) -> str:
    """The system's words under requests' wrapping (``[Errno 111] Connection refused``), else requests'."""
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if isinstance(current, OSError) and current.strerror:
            return str(current)
        todo += [e for e in (current.__cause__, current.__context__, getattr(current, "reason", None)) if isinstance(e, BaseException)]
    return str(exc)
