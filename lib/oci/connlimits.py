"""The bounds both of ``oci-api``'s servers keep (plain HTTP with waitress, HTTPS with ``tlsserver``).

Every resource a client can hold is bounded: connections from one source address, connections in all,
the time from a connection's first byte (or a request's first byte, on a kept-alive connection) to the
last byte of its request, and the worker threads. An idle or trickling client holds a file descriptor
until ``client_timeout``, never a thread: both servers read requests in one I/O thread and hand only
complete ones to the workers.
"""

from __future__ import annotations

import json
import logging
import resource
import threading
from collections import Counter
from dataclasses import dataclass

from oci.config import Config

LOG = logging.getLogger("oci.api")

# File descriptors the process needs besides its connections: the listening socket, state files, logs,
# the workers' subprocesses.
SPARE_DESCRIPTORS = 128


@dataclass(frozen=True, slots=True)
class Limits:
    threads: int = 8
    per_source: int = 32
    total: int = 1000
    client_timeout: int = 30  # seconds

    @classmethod
    def from_config(cls, cfg: Config, threads: int | None = None) -> Limits:
        return cls(
            threads=threads or cfg.threads,
            per_source=cfg.connections_per_source,
            total=cfg.max_connections,
            client_timeout=cfg.client_timeout,
        )


class SourceCounts:
    """Open connections per source address; shared by the I/O thread (admit) and the workers (release)."""

    def __init__(self, per_source: int) -> None:
        self.per_source = per_source
        self._open: Counter[str] = Counter()
        self._refusing: set[str] = set()  # sources refused since they were last under their limit
        self._lock = threading.Lock()

    def admit(self, source: str) -> bool:
        with self._lock:
            if self._open[source] >= self.per_source:
                if source not in self._refusing:  # one line per episode, not one per connection of an attack
                    self._refusing.add(source)
                    LOG.warning("%s has %d connections open: refusing more ([api] connections_per_source)", source, self.per_source)
                return False
            self._open[source] += 1
            return True

    def release(self, source: str) -> None:
        with self._lock:
            self._open[source] -= 1
            if self._open[source] <= 0:
                del self._open[source]
            self._refusing.discard(source)

    def __getitem__(self, source: str) -> int:
        with self._lock:
            return self._open[source]

    def total(self) -> int:
        with self._lock:
            return sum(self._open.values())


def refusal(source: str, per_source: int) -> bytes:
    """The one-line HTTP reply to a source over its limit (plain HTTP only: over TLS nothing can be said
    before a handshake, which is the very cost being refused)."""
    body = json.dumps(
        {
            "status": "error",
            "message": f"too many connections from {source} (at most {per_source} at once)",
            "hint": "close idle connections, or raise [api] connections_per_source",
            "data": None,
        },
        sort_keys=True,
    ).encode()
    head = (
        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nConnection: close\r\n" f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def raise_descriptor_limit(connections: int) -> None:
    """Let the process hold ``connections`` sockets: raise the soft limit on descriptors (systemd's is
    1,024) towards the hard one; a server that ran out would refuse everyone, not only the attacker."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + SPARE_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        if new < wanted:
            LOG.warning("only %d file descriptors (hard limit): [api] max_connections = %d may not be reached", new, connections)
