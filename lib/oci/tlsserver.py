"""HTTPS for the embedded server, shaped like waitress: one I/O thread, a fixed pool of workers.

waitress (the plain-HTTP server) has no TLS. When ``oci-api`` is given a certificate and a key, it serves
the same application with this server instead. The I/O thread accepts connections, does their TLS
handshakes and reads their requests without ever blocking (``selectors``, non-blocking sockets); only a
complete request reaches a worker, which runs the application and writes the reply. So a client that
connects and sends nothing, stalls its handshake or trickles its request holds a file descriptor until
``client_timeout`` (counted from the connection, for the handshake and the whole request), never a thread.
The bounds are those of ``oci.connlimits.Limits``: connections per source (refused at once, before any
handshake), connections in all (no more accepted until one ends; the kernel queues the rest), the request
deadline, and the workers. One request per connection, as with the standard library's server this
replaces; a site that wants more serves the API with Apache and mod_wsgi instead (docs/packaging.md).

Only AEAD cipher suites are offered: TLS 1.3's, and on TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import io
import json
import logging
import selectors
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from wsgiref.handlers import SimpleHandler

from oci.api import MAX_BODY_BYTES
from oci.connlimits import Limits, SourceCounts

LOG = logging.getLogger("oci.api")

# TLS 1.2 suites (OpenSSL names); TLS 1.3's are all AEAD and set apart by OpenSSL (ciphersuites).
TLS12_CIPHERS = ":".join(
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    )
)
MAX_HEAD_BYTES = 64 * 1024  # request line and headers
ACCEPTS_PER_TURN = 64  # accepted per turn of the loop, so that established clients are not starved
PAUSED_POLL = 0.25  # seconds between checks for a free slot, while max_connections are open

Application = Callable[..., Iterable[bytes]]


def server_context(certificate: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.load_cert_chain(certificate, key)
    return context


@dataclass(slots=True, eq=False)
class _Connection:
    sock: ssl.SSLSocket
    peer: tuple[str, int]
    deadline: float  # time.monotonic() by which the whole request must be in
    handshaken: bool = False
    data: bytearray = field(default_factory=bytearray)
    scanned: int = 0  # where to look for the end of the headers from
    head_end: int | None = None  # offset just after the blank line ending the headers
    wanted: int | None = None  # head and body, in bytes, once the head is in
    error: tuple[int, str] | None = None  # the reply owed instead of running the application
    closed: bool = False


class TLSServer:
    def __init__(self, address: tuple[str, int], app: Application, certificate: Path, key: Path, limits: Limits) -> None:
        self.app = app
        self.limits = limits
        self.context = server_context(certificate, key)
        self.sources = SourceCounts(limits.per_source)
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.listener.bind(address)
            self.listener.listen(1024)
            self.listener.setblocking(False)
        except OSError:
            self.listener.close()
            raise
        self.server_address: tuple[str, int] = self.listener.getsockname()[:2]
        self.selector = selectors.DefaultSelector()  # epoll: no limit on descriptor numbers
        self.selector.register(self.listener, selectors.EVENT_READ, None)
        self.accepting = True
        # Connections in the I/O thread, oldest first: their deadlines are in the same order (accept time +
        # a constant), so expiring them never scans more than the expired ones.
        self.reading: collections.OrderedDict[int, _Connection] = collections.OrderedDict()
        self.open = 0  # connections accepted and not yet closed, in the I/O thread or a worker's
        self.open_lock = threading.Lock()
        self.workers = ThreadPoolExecutor(max_workers=limits.threads, thread_name_prefix="oci-api-tls")
        self.stopping = threading.Event()

    def __enter__(self) -> TLSServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stopping.set()
        for conn in list(self.reading.values()):
            self._drop(conn)
        self.selector.close()
        self.listener.close()
        self.workers.shutdown(wait=False, cancel_futures=True)

    def serve_forever(self) -> None:
        while not self.stopping.is_set():
            self._resume_accepting()
            timeout = PAUSED_POLL if not self.accepting else 1.0
            if self.reading:
                timeout = min(timeout, max(0.0, next(iter(self.reading.values())).deadline - time.monotonic()))
            for key, _ in self.selector.select(timeout):
                if key.data is None:
                    self._accept()
                else:
                    self._advance(key.data)
            self._expire()

    def shutdown(self) -> None:
        self.stopping.set()  # (the loop sees it within a second)

    # -- the I/O thread

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_TURN):
            with self.open_lock:
                if self.open >= self.limits.total:
                    self.selector.unregister(self.listener)
                    self.accepting = False
                    LOG.warning("%d connections open: not accepting more until one ends ([api] max_connections)", self.open)
                    return
            try:
                raw, peer = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                continue  # reset before it was accepted, or out of descriptors for a moment
            source = str(peer[0])
            if not self.sources.admit(source):
                raw.close()
                continue
            try:
                raw.setblocking(False)
                sock = self.context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
            except OSError:
                self.sources.release(source)
                raw.close()
                continue
            conn = _Connection(sock, (source, int(peer[1])), time.monotonic() + self.limits.client_timeout)
            with self.open_lock:
                self.open += 1
            self.reading[sock.fileno()] = conn
            self.selector.register(sock, selectors.EVENT_READ, conn)

    def _resume_accepting(self) -> None:
        if not self.accepting:
            with self.open_lock:
                if self.open < self.limits.total:
                    self.selector.register(self.listener, selectors.EVENT_READ, None)
                    self.accepting = True

    def _advance(self, conn: _Connection) -> None:
        """Move one connection on as far as its data allows: handshake, then request."""
        try:
            if not conn.handshaken:
                conn.sock.do_handshake()
                conn.handshaken = True
            while True:  # until the socket would block: TLS may hold decrypted bytes the selector cannot see
                chunk = conn.sock.recv(65536)
                if not chunk:
                    self._drop(conn)  # the client went away
                    return
                conn.data += chunk
                if self._complete(conn):
                    self._dispatch(conn)
                    return
        except ssl.SSLWantReadError:
            self.selector.modify(conn.sock, selectors.EVENT_READ, conn)  # (no-op unless a write was awaited)
        except ssl.SSLWantWriteError:  # the handshake's reply did not fit in the send buffer
            self.selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
        except OSError:  # (SSLError is one: not TLS, a refused suite or version, a reset)
            self._drop(conn)
        except Exception:  # a bug must cost one connection, not the server
            LOG.exception("unexpected error reading from %s", conn.peer[0])
            self._drop(conn)

    def _complete(self, conn: _Connection) -> bool:
        """Whether the whole request is in (or an error reply is owed)."""
        if conn.head_end is None:
            end = conn.data.find(b"\r\n\r\n", conn.scanned)
            if end < 0 or end + 4 > MAX_HEAD_BYTES:
                if len(conn.data) > MAX_HEAD_BYTES:
                    conn.error = (431, f"request line and headers larger than {MAX_HEAD_BYTES} bytes")
                    return True
                conn.scanned = max(0, len(conn.data) - 3)  # a head trickled in is scanned once, not once per byte
                return False
            conn.head_end = end + 4
            conn.wanted, conn.error = _request_size(bytes(conn.data[: conn.head_end]), conn.head_end)
            if conn.error:
                return True
        assert conn.wanted is not None
        return len(conn.data) >= conn.wanted

    def _dispatch(self, conn: _Connection) -> None:
        self.selector.unregister(conn.sock)
        del self.reading[conn.sock.fileno()]
        self.workers.submit(self._respond, conn)

    def _expire(self) -> None:
        now = time.monotonic()
        while self.reading:
            conn = next(iter(self.reading.values()))
            if conn.deadline > now:
                return
            self._drop(conn)  # too slow: the handshake or the request was not in within client_timeout

    def _drop(self, conn: _Connection) -> None:
        fileno = conn.sock.fileno()
        if self.reading.get(fileno) is conn:
            del self.reading[fileno]
            self.selector.unregister(conn.sock)
        self._close(conn)

    def _close(self, conn: _Connection) -> None:
        if conn.closed:
            return  # (released once: the counts would drift)
        conn.closed = True
        with contextlib.suppress(OSError):
            conn.sock.close()
        self.sources.release(conn.peer[0])
        with self.open_lock:
            self.open -= 1

    # -- the workers

    def _respond(self, conn: _Connection) -> None:
        try:
            conn.sock.settimeout(self.limits.client_timeout)  # blocking from now on, each write bounded
            with conn.sock.makefile("wb") as output:
                if conn.error is None and conn.head_end is not None:
                    head = bytes(conn.data[: conn.head_end])
                    body = bytes(conn.data[conn.head_end :])
                    try:
                        environ = wsgi_environ(head, conn.peer, self.server_address)
                    except ValueError as exc:
                        conn.error = (400, str(exc))
                    else:
                        _Handler(io.BytesIO(body), output, sys.stderr, environ, multithread=True, multiprocess=False).run(self.app)
                if conn.error is not None:
                    output.write(error_response(*conn.error))
        except OSError:
            pass  # the client went away, or did not read its reply within client_timeout
        except Exception:
            LOG.exception("unexpected error answering %s", conn.peer[0])
        finally:
            self._close(conn)


class _Handler(SimpleHandler):
    """wsgiref's handler, writing an HTTP/1.0 reply: the connection ends with it."""

    os_environ: dict[str, str] = {}  # noqa: RUF012  # the server's environment is not the application's business
    server_software = "oci-api"


def _request_size(head: bytes, head_size: int) -> tuple[int, tuple[int, str] | None]:
    """The size of the whole request given its head, or the error reply it deserves (body unread)."""
    length: int | None = None
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"transfer-encoding":
            return head_size, (411, "chunked request bodies are not accepted over HTTPS: send a Content-Length")
        if name == b"content-length" and sep:
            text = value.strip()
            if not text.isdigit() or (length is not None and int(text) != length):
                return head_size, (400, "invalid Content-Length")
            length = int(text)
    if length is not None and length > MAX_BODY_BYTES:
        return head_size, (413, f"request body of {length} bytes is larger than {MAX_BODY_BYTES}")
    return head_size + (length or 0), None


def wsgi_environ(head: bytes, peer: tuple[str, int], server: tuple[str, int]) -> dict[str, Any]:
    """The WSGI environment of a request head (PEP 3333), over HTTPS; ValueError for a malformed one."""
    request_line, _, headers_block = head.partition(b"\r\n")
    parts = request_line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[1].startswith("/"):
        raise ValueError("malformed request line")
    method, target, protocol = parts
    try:
        headers = http.client.parse_headers(io.BytesIO(headers_block))
    except http.client.HTTPException as exc:
        raise ValueError(f"malformed headers: {exc}") from None
    path, _, query = target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": urllib.parse.unquote(path, "latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": protocol,
        "REMOTE_ADDR": peer[0],
        "REMOTE_PORT": str(peer[1]),
        "HTTPS": "on",  # wsgiref's handler makes wsgi.url_scheme 'https' from it
        "wsgi.url_scheme": "https",
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if "_" in name:
            continue  # X_Forwarded_For would pass for X-Forwarded-For: drop it, as wsgiref does
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value.strip()
            continue
        key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value.strip()}" if key in environ else value.strip()
    return environ


def error_response(status: int, message: str) -> bytes:
    body = json.dumps({"status": "error", "message": message, "data": None}, sort_keys=True).encode()
    reason = http.client.responses.get(status, "Error")
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    return head.encode() + body


def serve(app: Application, host: str, port: int, certificate: Path, key: Path, limits: Limits | None = None) -> None:
    with TLSServer((host, port), app, certificate, key, limits or Limits()) as server:
        server.serve_forever()
