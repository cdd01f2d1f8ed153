"""machine-wait-for-install in both modes: ocicli runs in a subprocess while the test plays the node,
posting each status only once the command has printed the line of the one before; the command's exit is
awaited with a generous guard. Nothing here waits for time to pass, except the timeout case itself."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from ipaddress import IPv4Address
from typing import Any

import pytest

from conftest import NOW, REPO, post, report_body
from oci.cli.machines import EXIT_INSTALL_FAILED, EXIT_TIMED_OUT, progress_line
from oci.report import v1
from oci.service import reports, tokens
from oci.service import status as intake
from oci.store import Store

GUARD = 60.0  # seconds: only against a hung command, never a figure


class Command:
    """ocicli in a subprocess whose output is read line by line as it comes."""

    def __init__(self, env: dict[str, str], *argv: str) -> None:
        self.proc = subprocess.Popen([str(REPO / "bin" / "ocicli"), *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buffer = b""

    def line(self) -> str:
        give_up = time.monotonic() + GUARD
        while b"\n" not in self.buffer:
            left = give_up - time.monotonic()
            assert left > 0, "no line from ocicli in time"
            assert self.proc.stdout is not None
            if select.select([self.proc.stdout], [], [], left)[0]:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                assert chunk, f"ocicli ended early: {self.finish()}"
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()

    def finish(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=GUARD)
        return self.proc.returncode, (self.buffer + out).decode(), err.decode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=GUARD)


Send = Callable[..., None]


@pytest.fixture(params=["local", "http"])
def mode(request, store, tmp_path) -> Iterator[tuple[dict[str, str], Send]]:
    """(ocicli's environment, send(serial, status, **fields)): the state directory itself, or oci-api."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("OCI_")}
    if request.param == "local":
        for serial in ("C1", "C2"):
            reports.record(store, v1.parse(report_body(serial)), IPv4Address("192.168.100.20"), NOW)

        def send(serial: str, value: str, address: str | None = None, **fields: Any) -> None:
            now = datetime.now(UTC).replace(microsecond=0)
            intake.record(store, serial, value, IPv4Address(address) if address else None, now, **fields)

        yield {**base, "OCI_STATE_DIR": str(store.root)}, send
        return
    port, _, state = request.getfixturevalue("server")
    for serial in ("C1", "C2"):
        assert post(port, "/api/v1/report", json.dumps(report_body(serial)).encode())[0] == 200
    token = tokens.create(Store(state), "waiter", NOW)

    def send_http(serial: str, value: str, **fields: Any) -> None:
        code, body = post(port, "/api/v1/status", json.dumps({"version": 1, "serial": serial, "status": value, **fields}).encode())
        assert code == 200, body

    yield {**base, "OCI_API_URL": f"http://127.0.0.1:{port}", "OCI_API_TOKEN": token, "OCI_STATE_DIR": str(tmp_path / "unused")}, send_http


@pytest.fixture
def started() -> Iterator[list[Command]]:
    commands: list[Command] = []
    yield commands
    for command in commands:  # even when the test failed
        command.stop()


def wait(env: dict[str, str], started: list[Command], *argv: str) -> Command:
    command = Command(env, "machine-wait-for-install", "--interval", "0.05", *argv)
    started.append(command)
    return command


def test_progress_lines_until_installed(mode, started):
    env, send = mode
    send("C1", "installing")
    command = wait(env, started, "C1")
    assert command.line() == "C1: installing: waiting for the installer's first step"
    send("C1", "installing", step="check-disks")
    assert command.line().startswith("C1: installing: check-disks (step 1, ")
    send("C1", "installing", step="check-disks", seconds=0.5)
    assert command.line().startswith("C1: installing: after check-disks (step 1, ")
    send("C1", "installing", step="wipe")
    assert command.line().startswith("C1: installing: wipe (step 2, ")
    send("C1", "installing", step="wipe", seconds=0.25)
    assert command.line().startswith("C1: installing: after wipe (step 2, ")
    send("C1", "firstboot")
    assert command.line().startswith("C1: firstboot: booting from its disk (install took ")
    send("C1", "installed", address="192.168.101.2")
    assert command.line().startswith("C1: installed (install took ")
    assert command.finish() == (0, "installed: C1\n", "")


def test_a_failed_install_ends_with_its_step_and_error_after_the_others(mode, started):
    env, send = mode
    send("C1", "installing", step="check-disks")
    send("C2", "installing", step="check-disks")
    command = wait(env, started, "C1", "C2")
    assert command.line().startswith("C1: installing: check-disks (step 1, ")
    assert command.line().startswith("C2: installing: check-disks (step 1, ")
    send("C2", "live", step="check-disks", error="no disk of at least 8 GiB")
    line = command.line()
    assert line.startswith("C2: install failed at check-disks after ") and line.endswith("s: no disk of at least 8 GiB")
    send("C1", "firstboot")
    assert command.line().startswith("C1: firstboot: ")
    send("C1", "installed")
    assert command.line().startswith("C1: installed")
    assert command.finish() == (EXIT_INSTALL_FAILED, "install failed: C2\n", "")


def test_a_machine_not_being_installed_fails_at_once_and_a_timeout_has_its_code(mode, started):
    env, send = mode
    code, out, err = wait(env, started, "C1").finish()
    assert (code, out, err) == (EXIT_INSTALL_FAILED, "C1: live: no install running\ninstall failed: C1\n", "")
    send("C1", "installing")
    command = wait(env, started, "--timeout", "0.2", "--json", "C1")
    code, out, err = command.finish()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == EXIT_TIMED_OUT and err == ""
    assert lines[0]["line"] == "C1: installing: waiting for the installer's first step" and lines[0]["install"]["state"] == "running"
    assert lines[-1] == {"installed": [], "failed": [], "waiting": ["C1"]}


def test_an_unknown_machine_is_one_line(mode, started):
    env, _ = mode
    code, out, err = wait(env, started, "NOPE").finish()
    assert (code, out) == (1, "")
    assert err == "ocicli: error: no machine with serial or hostname 'NOPE' (see machine-list)\n"


@pytest.mark.parametrize(
    ("progress", "line", "ended"),
    [
        ({"status": "installed", "install": None}, "h1.example.com: installed", True),
        ({"status": "bootinglive", "install": None}, "h1.example.com: bootinglive: no install running", False),
        ({"status": "installing", "install": {"state": "done", "steps": [], "seconds": 3}},
         "h1.example.com: installing: waiting for the installer's first step", None),
        ({"status": "live", "install": {"state": "failed", "failed_step": None, "error": "killed", "seconds": 75, "steps": []}},
         "h1.example.com: install failed after 1m15s: killed", False),
    ],
)  # fmt: skip
def test_progress_lines(progress, line, ended):
    assert progress_line({"serial": "C1", "hostname": "h1.example.com", **progress}) == (line, ended)
