"""ocicli's HTTP backend (requests): what it sends, where, and what it says when it cannot, on loopback servers."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from oci.cli.backend import HttpBackend
from oci.errors import InvalidInput, NotFound, OciError


@contextmanager
def server(status: int, body: bytes, headers: dict[str, str] | None = None) -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """A loopback HTTP server answering every request the same way; yields its URL and the requests it saw."""
    seen: list[tuple[str, str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            seen.append((self.command, self.path, self.headers.get("Authorization", "")))
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = answer

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=30)


def envelope(status: str, data: object = None, message: str = "ok") -> bytes:
    return json.dumps({"status": status, "data": data, "message": message}).encode()


def test_a_call_sends_the_token_and_returns_the_data():
    with server(200, envelope("success", [{"name": "cl1"}])) as (url, seen):
        assert HttpBackend(url, "oci-abc").call("cluster_list") == [{"name": "cl1"}]
    assert seen == [("GET", "/api/v1/clusters", "Bearer oci-abc")]


def test_an_error_envelope_becomes_the_same_error_as_in_local_mode():
    reply = json.dumps({"status": "error", "data": None, "message": "no cluster named 'x'", "hint": "see cluster-list"}).encode()
    with server(404, reply) as (url, _), pytest.raises(NotFound, match="no cluster named 'x'") as raised:
        HttpBackend(url, "oci-abc").call("cluster_show", name="x")
    assert raised.value.hint == "see cluster-list"


def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else():
    with server(200, envelope("success")) as (elsewhere, seen_elsewhere):
        moved = {"Location": f"{elsewhere}/api/v1/clusters"}
        with server(302, b"", moved) as (url, _), pytest.raises(OciError, match="answered HTTP 302 without a JSON envelope"):
            HttpBackend(url, "oci-abc").call("cluster_list")
    assert seen_elsewhere == []


def test_proxies_from_the_environment_are_not_used(monkeypatch):
    with server(200, envelope("success", [])) as (proxy, seen_by_proxy), server(200, envelope("success", [])) as (url, seen):
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.setenv("http_proxy", proxy)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        assert HttpBackend(url, "oci-abc").call("cluster_list") == []
    assert seen_by_proxy == [] and len(seen) == 1


def test_an_unreachable_api_is_one_line_with_the_systems_words():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(OciError) as raised:
            HttpBackend(f"http://127.0.0.1:{port}", "oci-abc").call("cluster_list")
    assert raised.value.message == f"cannot reach the API at http://127.0.0.1:{port}: [Errno 111] Connection refused"


def test_a_token_that_cannot_be_a_header_is_refused_without_quoting_it():
    with pytest.raises(InvalidInput) as raised:
        HttpBackend("http://127.0.0.1:9", "oci-abc\nX-Evil: 1")
    assert "oci-abc" not in raised.value.message
