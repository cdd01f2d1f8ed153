"""A Debian package cache for the install tests: apt-cacher-ng (the cache the master runs) as a foreground
daemon on a free loopback port, with its own configuration folder and a cache folder kept across runs
(``CACHE_DIR``), so the first run of a fresh machine fills it from deb.debian.org and the next ones are warm.

``mirror(port)`` is apt-cacher-ng's "host in the path" form, which debootstrap and apt take like a plain
mirror: http://127.0.0.1:PORT/deb.debian.org/debian. Run as a script, it fills the cache (``--warm``).
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from conftest import stop_daemon
from oci.packagecache import apt_cacher_ng_conf

CACHE_DIR = Path("/var/cache/oci-tests/apt-cacher-ng")
GUARD = 60.0  # seconds: a guard against a daemon that never answers, never a figure
# apt-cacher-ng 3.7 cannot bind a port above 32767 ("Error resolving address for binding"), and the
# kernel's free ports (what conftest.free_port finds) are above it: ours come from below.
PORTS = range(20000, 32768)


def _free_low_port(address: str) -> int:
    """Not 3142 either: the machine's own apt-cacher-ng may hold it on every address."""
    for port in random.sample(PORTS, 200):
        with socket.socket() as s:
            try:
                s.bind((address, port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port on {address} between 20000 and 32767")


def mirror(port: int) -> str:
    return f"http://127.0.0.1:{port}/deb.debian.org/debian"


def security_mirror(port: int) -> str:
    return f"http://127.0.0.1:{port}/security.debian.org/debian-security"


def _answers(address: str, port: int) -> bool:
    conn = http.client.HTTPConnection(address, port, timeout=GUARD)
    try:
        conn.request("GET", "/acng-report.html")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def running(workdir: Path, cache_dir: Path = CACHE_DIR, address: str = "127.0.0.1") -> Iterator[int]:
    """apt-cacher-ng on ``address``, its configuration and log under ``workdir``; yields its port once it
    answers, stops it at the end (even when the test fails)."""
    conf, logs = workdir / "acng-conf", workdir / "acng-log"
    conf.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    port = _free_low_port(address)
    (conf / "acng.conf").write_text(apt_cacher_ng_conf(cache_dir, logs, address, port, workdir / "acng.socket"))
    with (workdir / "acng.out").open("w") as out:
        proc = subprocess.Popen(["apt-cacher-ng", "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + GUARD
        while not _answers(address, port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"apt-cacher-ng did not start: {(workdir / 'acng.out').read_text()}")
            time.sleep(0.05)  # polling a port that is not open yet, bounded by the guard
        yield port
    finally:
        stop_daemon(proc, GUARD)
