"""An in-process WSGI client for the API (no socket, no thread), as bottle's own tests do."""

from __future__ import annotations

import io
import json
from ipaddress import IPv4Network
from typing import Any

from conftest import NOW
from oci.api import make_app

TRUSTED = (IPv4Network("127.0.0.0/8"), IPv4Network("192.168.100.0/24"))  # loopback and a provisioning network


class Client:
    def __init__(self, store: Any, token: str | None = None) -> None:
        self.when = NOW
        self.app = make_app(store, now=lambda: self.when, trusted=TRUSTED)
        self.token = token
        self.extra_environ: dict[str, str] = {}

    def request(self, method, path, body=None, remote="192.168.100.20", length=None, token=None, scheme="http", headers=None):
        raw = body or b""
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "test",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": scheme,
            "wsgi.input": io.BytesIO(raw),
            "wsgi.errors": io.StringIO(),
            "REMOTE_ADDR": remote,
            "CONTENT_LENGTH": str(len(raw)) if length is None else length,
        }
        environ.update(self.extra_environ)
        if token:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            captured["headers"] = dict(headers)

        payload = b"".join(self.app(environ, start_response))
        return captured["status"], captured["headers"], payload

    def post_json(self, path, body, **kw):
        status, _, payload = self.request("POST", path, json.dumps(body).encode(), **kw)
        return status, json.loads(payload)

    def get_json(self, path, **kw):
        status, _, payload = self.request("GET", path, **kw)
        return status, json.loads(payload)

    def call(self, method, path, body=None, token="default", remote="10.20.30.40", scheme="https"):
        """An operator request (over HTTPS unless told): JSON body, the client's token unless another (or None) is given."""
        token = self.token if token == "default" else token
        raw = None if body is None else json.dumps(body).encode()
        status, _, payload = self.request(method, path, raw, remote=remote, token=token, scheme=scheme)
        return status, json.loads(payload)
