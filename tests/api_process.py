"""oci-api as a separate process with its own configuration file, and what attack tests need around it:
its thread count, many held connections, and waiting (with a guard) for the server to close them."""

from __future__ import annotations

import contextlib
import http.client
import os
import selectors
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import REPO, free_port

GUARD = 15.0  # seconds: only a guard against a hung test, never a figure


@contextmanager
def running(
    tmp_path: Path, api_settings: str = "", *args: str, context: ssl.SSLContext | None = None
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """oci-api on a free loopback port, ``api_settings`` in its configuration file's [api] section; yields
    (process, port) once it answers /api/v1/health (over TLS when ``context`` is given)."""
    port = free_port()
    conf = tmp_path / "oci.conf"
    conf.write_text(f"[state]\ndir = {tmp_path / 'state'}\n[api]\nlisten = 127.0.0.1:{port}\n{api_settings}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCI_")}
    log = (tmp_path / "oci-api.log").open("w")  # (a file, not a pipe: nobody reads a pipe during the test)
    proc = subprocess.Popen([str(REPO / "bin" / "oci-api"), *args], env={**env, "OCI_CONFIG": str(conf)},
                            stdout=log, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    log.close()
    try:
        deadline = time.monotonic() + 60  # a guard: it answers within a second
        while True:
            try:
                if get(port, "/api/v1/health", context=context)[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    proc.kill()
                    proc.wait()
                    raise AssertionError(f"oci-api did not start: {server_log(tmp_path)}") from None
                time.sleep(0.05)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)
        assert "Traceback" not in server_log(tmp_path), server_log(tmp_path)


def server_log(tmp_path: Path) -> str:
    """What the oci-api of ``running(tmp_path, ...)`` wrote (stdout and stderr)."""
    return (tmp_path / "oci-api.log").read_text()


def get(
    port: int, path: str, source: str = "127.0.0.1", token: str | None = None, context: ssl.SSLContext | None = None
) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if context is None:
        conn: http.client.HTTPConnection = http.client.HTTPConnection("127.0.0.1", port, timeout=GUARD, source_address=(source, 0))
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=GUARD, source_address=(source, 0), context=context)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def connect_many(port: int, sources: list[str], each: int, first_bytes: bytes = b"") -> list[socket.socket]:
    """``each`` connections from every address of ``sources``, each sending ``first_bytes`` and then nothing."""
    out = []
    for source in sources:
        for _ in range(each):
            sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD, source_address=(source, 0))
            out.append(sock)
            if first_bytes:
                with contextlib.suppress(OSError):  # (refused and closed already)
                    sock.sendall(first_bytes)
    return out


def wait_closed(socks: list[socket.socket], count: int) -> list[bytes]:
    """Wait until the server has closed ``count`` of ``socks`` (guarded); what each closed one received."""
    replies = []
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + GUARD
        while len(replies) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"the server closed {len(replies)} connections, not {count}"
            for key, _ in selector.select(left):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                received = b""
                try:
                    while chunk := sock.recv(65536):
                        received += chunk
                except OSError:
                    pass  # a reset: the reply, if any, was lost with it
                selector.unregister(sock)
                replies.append(received)
    return replies


def still_open(socks: list[socket.socket]) -> int:
    """How many of ``socks`` the server has neither closed nor answered (checked now, without waiting)."""
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        return len(socks) - len(selector.select(0))
