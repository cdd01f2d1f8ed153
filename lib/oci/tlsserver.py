"""HTTPS for the embedded server: a threaded WSGI server from the standard library, with TLS.

waitress (the plain-HTTP server) has no TLS. When ``oci-api`` is given a certificate and a key, it serves
the same application with this server instead: one thread per connection, the TLS handshake done in that
thread (a slow client cannot stall the others), one request per connection. That is plenty for operators
and small sites; a large site puts Apache with mod_wsgi in front, as the packaging will.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

HANDSHAKE_TIMEOUT = 30


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are not logged; changes are, in the audit log


class TLSServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: Any, certificate: Path, key: Path) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(certificate, key)
        super().__init__(address, _QuietHandler)
        self.set_app(app)

    def finish_request(self, request: Any, client_address: Any) -> None:
        raw: socket.socket = request
        raw.settimeout(HANDSHAKE_TIMEOUT)
        try:
            secured = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()  # not TLS, or a failed handshake: nothing to answer
            return
        super().finish_request(secured, client_address)


def serve(app: Any, host: str, port: int, certificate: Path, key: Path) -> None:
    with TLSServer((host, port), app, certificate, key) as server:
        server.serve_forever()
