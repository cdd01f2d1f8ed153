"""``oci-api``: serve the API with waitress, a threaded WSGI server packaged in Debian.

Apache with mod_wsgi serves the same application (``make_app``, through ``share/wsgi/oci-api.wsgi``) when
the site chooses it (docs/packaging.md); this entry point is the embedded server (the default, ``make poc``,
tests).

waitress already reads requests in one asynchronous I/O thread and runs the application in a fixed pool of
threads, so an idle or slow client never holds a thread. What waitress 2.1.2 (Debian 12) lacks is added
here, through the hooks it has (its server's ``handle_accept`` and ``maintenance``, its channel class):
a bound on the connections of one source (a single client filled ``connection_limit`` and waitress stopped
accepting anyone), and a deadline for a whole request (``channel_timeout`` counts from the last byte, so
a client trickling one byte at a time kept its connection forever).
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import ssl
import time
from pathlib import Path
from types import FrameType
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from oci import config as config_mod
from oci import tlsserver
from oci.api import MAX_LARGE_BODY_BYTES, make_app
from oci.cli.edge import edge
from oci.connlimits import Limits, SourceCounts, raise_descriptor_limit, refusal
from oci.errors import ConfigError
from oci.store import Store


class BoundedChannel(HTTPChannel):  # type: ignore[misc]  # (waitress has no type hints)
    """A waitress connection that remembers when its current, incomplete request began."""

    request_started: float | None = None  # time.monotonic() of the first byte of a request still being received

    def __init__(self, server: BoundedServer, sock: socket.socket, addr: Any, adj: Adjustments, map: Any = None) -> None:
        self.source = str(addr[0])
        super().__init__(server, sock, addr, adj, map=map)

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.monotonic()
        done: bool = super().received(data)
        if self.request is None:  # complete (handed to a worker) or none begun: no deadline until the next byte
            self.request_started = None
        return done

    def del_channel(self, map: Any = None) -> None:
        if self._fileno is not None and self._fileno in self.server.active_channels:  # (called again after a close)
            self.server.sources.release(self.source)
        super().del_channel(map)


class BoundedServer(TcpWSGIServer):  # type: ignore[misc]
    """waitress's TCP server, refusing a source's connections over its limit and closing slow requests."""

    channel_class = BoundedChannel

    def __init__(self, app: Any, sources: SourceCounts, client_timeout: int, **kw: Any) -> None:
        self.sources = sources
        self.client_timeout = client_timeout
        super().__init__(app, **kw)

    def handle_accept(self) -> None:
        try:
            accepted = self.accept()
        except OSError:
            return  # (as waitress: a connection reset before it was accepted)
        if accepted is None:
            return
        conn, addr = accepted
        source = str(addr[0])
        if not self.sources.admit(source):
            _refuse(conn, refusal(source, self.sources.per_source))
            return
        try:
            self.set_socket_options(conn)
            self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)
        except Exception:
            self.sources.release(source)
            conn.close()
            raise

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections (no request begun) after channel_timeout
        cutoff = time.monotonic() - self.client_timeout
        for channel in self.active_channels.values():
            if not channel.requests and channel.request_started is not None and channel.request_started < cutoff:
                channel.will_close = True  # the I/O loop closes it at its next turn


def _refuse(conn: socket.socket, reply: bytes) -> None:
    try:
        conn.setblocking(False)
        conn.send(reply)  # a few hundred bytes into an empty send buffer: whole, or not at all
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    conn.close()


def create_server(app: Any, host: str, port: int, limits: Limits, **adjustments: Any) -> Any:
    """waitress's ``create_server`` with ``BoundedServer``: one server per address ``host`` resolves to,
    sharing the worker threads, the connection map (``connection_limit`` counts it) and the per-source
    counts."""
    adj = Adjustments(
        host=host,
        port=port,
        threads=limits.threads,
        connection_limit=limits.total,
        channel_timeout=limits.client_timeout,
        # maintenance runs this often: a slow client is closed within client_timeout + this.
        cleanup_interval=max(1, limits.client_timeout // 4),
        # select() cannot watch descriptors above 1,024; max_connections may be more.
        asyncore_use_poll=True,
        **adjustments,
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    sources = SourceCounts(limits.per_source)
    socket_map: dict[int, Any] = {}
    servers = [
        BoundedServer(app, sources, limits.client_timeout, map=socket_map, dispatcher=dispatcher, adj=adj, sockinfo=sockinfo)
        for sockinfo in adj.listen
    ]
    if len(servers) == 1:
        return servers[0]
    listening = [(s.effective_host, s.effective_port) for s in servers]
    return MultiSocketServer(socket_map, adj, listening, dispatcher, servers[-1].log_info)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


@edge("oci-api")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="oci-api",
        description="Serve the OCI HTTP API (reports from discovery agents, operator commands).",
        epilog="Connections are bounded per address and in all, and a request must arrive within a deadline ([api] "
        "connections_per_source, max_connections, client_timeout); over plain HTTP, admin requests are accepted only from "
        "[api] plain_http_admin_networks (loopback). Exit codes: 0 stopped cleanly, 1 error (bad configuration, address in use), 2 usage.",
    )
    parser.add_argument("--listen", metavar="ADDR:PORT", help="address to listen on (default: [api] listen, 127.0.0.1:8080)")
    parser.add_argument("--threads", type=_positive, metavar="N", help="worker threads (default: [api] threads, 8)")
    parser.add_argument("--tls-cert", type=Path, metavar="FILE", help="serve HTTPS with this certificate (default: [api] tls_certificate)")
    parser.add_argument("--tls-key", type=Path, metavar="FILE", help="private key of --tls-cert (default: [api] tls_key)")
    parser.add_argument("--debug", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # waitress warns at every queued request once all threads are busy: a burst of reports from a rack
    # booting at once is normal here, and logging each one costs more than serving it.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    cfg = config_mod.load()
    host, port = config_mod.parse_listen(args.listen) if args.listen else cfg.listen
    limits = Limits.from_config(cfg, threads=args.threads)
    raise_descriptor_limit(limits.total)
    store = Store.open(cfg)
    cfg.state_dir.mkdir(parents=True, exist_ok=True)
    store.remove_stale_temp_files()  # what writers killed mid-write (a crash, kill -9) left behind
    app = make_app(store, trusted=cfg.trusted_networks)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    certificate = args.tls_cert or cfg.tls_certificate
    key = args.tls_key or cfg.tls_key
    if (certificate is None) != (key is None):
        raise ConfigError("a TLS certificate and its key go together", hint="give both --tls-cert and --tls-key")
    try:
        if certificate is not None and key is not None:
            logging.getLogger("oci.api").info("serving state %s on https://%s:%d", cfg.state_dir, host, port)
            try:
                tlsserver.serve(app, host, port, certificate, key, limits)
            except ssl.SSLError as exc:
                raise ConfigError(f"cannot use {certificate} and {key}: {exc.reason or exc}") from None
            return 0
        logging.getLogger("oci.api").info("serving state %s on %s:%d with %d threads", cfg.state_dir, host, port, limits.threads)
        create_server(app, host, port, limits, max_request_body_size=MAX_LARGE_BODY_BYTES + 1, ident="oci-api", backlog=1024).run()
    except KeyboardInterrupt:
        return 0  # a server run by hand is stopped with Ctrl-C: a clean stop, not a failure
    return 0
