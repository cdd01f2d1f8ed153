"""Where ocicli's operations run: on the state directory (local mode) or through the HTTP API.

Both take an operation name and its parameters (``oci.operations``) and return the same JSON data, or raise
the same error types with the same messages, so ``ocicli`` prints the same thing and exits with the same
code either way.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from oci import operations
from oci.enc import refresh as enc_refresh
from oci.errors import Conflict, Forbidden, InvalidInput, NotFound, OciError, PayloadTooLarge, Unauthorized
from oci.operations import OPERATIONS
from oci.store import Store

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
        self._scheme, self._host, self._port = parsed.scheme, parsed.hostname, parsed.port
        self._base = parsed.path.rstrip("/")

    def _connection(self) -> http.client.HTTPConnection:
        if self._scheme == "http":
            return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        return http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout, context=context)

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
        target = f"{self._base}/api/v1{path}"
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
        connection = self._connection()
        try:
            connection.request(operation.method, target, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except ssl.SSLCertVerificationError as exc:
            raise OciError(f"cannot verify the API server {self._host}: {exc.verify_message}", hint="give its CA with --ca-file") from None
        except (OSError, http.client.HTTPException) as exc:
            raise OciError(f"cannot reach the API at {self.url}: {exc}") from None
        finally:
            connection.close()
        try:
            envelope = json.loads(raw)
            status = envelope["status"]
        except (ValueError, KeyError, TypeError):
            raise OciError(f"the API at {self.url} answered HTTP {response.status} without a JSON envelope") from None
        if response.status == 200 and status == "success":
            return envelope.get("data")
        error = _ERRORS.get(response.status, OciError)
        raise error(str(envelope.get("message", f"HTTP {response.status}")), hint=envelope.get("hint"))
