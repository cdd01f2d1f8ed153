"""A real Puppet server for the tests: our rendered configuration in the test's confdir, on 127.0.0.1 and a free
port, the test's state behind its ENC (oci-enc reads ``OCI_STATE_DIR``). It is a JVM: 51 s to start on an idle
machine, minutes on a loaded one, 1.2 GB resident; the wait below is a guard, not a schedule."""

from __future__ import annotations

import http.client
import os
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import stop_daemon
from oci import puppet as layout
from oci.puppet import server
from oci.store import Store

CERTNAME = "localhost"  # the name agents reach it at, in its certificate
Inside = Callable[..., list[str]]  # argv -> the same argv run in a network namespace
START_GUARD = 1200.0  # seconds; 202 s measured here with a load of 7


@dataclass(frozen=True)
class PuppetServer:
    port: int
    confdir: Path
    log: Path


def _status(port: int, cafile: Path) -> str | None:
    """The server's own word (``running`` when it serves), None while nothing answers."""
    context = ssl.create_default_context(cafile=str(cafile))
    try:
        conn = http.client.HTTPSConnection(CERTNAME, port, timeout=10, context=context)
        conn.request("GET", "/status/v1/simple")
        return conn.getresponse().read().decode()
    except OSError:
        return None


@contextmanager
def running(store: Store, workdir: Path, certname: str = CERTNAME, inside: Inside | None = None) -> Iterator[PuppetServer]:
    """Set up (``oci-puppet-setup``'s code) and start the server of ``store.config`` (its ``[puppet]`` confdir and
    listen); stopped at the end, also when the test fails. ``inside`` runs a command in a network namespace
    (tests/vmlab.Lab.inside): the server then serves there, and is asked whether it runs from there too."""
    cfg = store.config
    vardir = workdir / "puppetserver-var"
    server.setup(store, certname, vardir=vardir)
    token = server.read_token(store)
    assert token is not None
    settings = server.settings_for(cfg, token, certname, vardir)
    log = workdir / "puppetserver.log"
    env = {**os.environ, "OCI_STATE_DIR": str(store.root), "LANG": "C.UTF-8"}
    env.pop("OCI_CONFIG", None)
    argv = inside(*server.command(settings)) if inside else server.command(settings)
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=server.PUPPETSERVER_HOME, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_GUARD
        cafile = layout.ssldir(cfg.puppet_confdir) / "certs" / "ca.pem"
        while (_status(settings.port, cafile) if inside is None else _status_inside(inside, settings, cafile)) != "running":
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"puppetserver did not start (exit {proc.poll()}): {log.read_text()[-3000:]}")
            time.sleep(1)
        yield PuppetServer(settings.port, cfg.puppet_confdir, log)
    finally:
        stop_daemon(proc)


def _status_inside(inside: Inside, settings: server.ServerSettings, cafile: Path) -> str | None:
    """``_status`` from the namespace, at the address it listens on, which its certificate names (as nodes check)."""
    url = f"https://{settings.host}:{settings.port}/status/v1/simple"
    done = subprocess.run(inside("curl", "-sS", "--max-time", "10", "--cacert", str(cafile), url), capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None
