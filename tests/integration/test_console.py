"""machine-console: the serial-over-LAN console through OpenIPMI's ipmi_sim, whose SOL reaches a "serial
line" that echoes in upper case (simbmc.serial_line). Read through the operations table, and attached to a
terminal (a pty) in a real ocicli process until the operator types ~."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import threading
import time

import pytest
from simbmc import simulated_bmcs

from conftest import REPO
from oci.bmc import BmcError, Policy, PyghmiBmc, Target, attach_console
from oci.cli.main import main
from oci.service import bmcops

GUARD = 120  # only against a hang: every wait below ends as soon as what it waits for arrives


@pytest.fixture
def console_bmcs(tmp_path):
    with simulated_bmcs(tmp_path / "bmcs", 2, consoles=True) as out:
        yield out


def _read_until(fd: int, wanted: bytes, seen: bytearray) -> None:
    give_up = time.monotonic() + GUARD
    while wanted not in seen:
        assert time.monotonic() < give_up, f"{wanted!r} never came: {bytes(seen)!r}"
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # a pty whose other end closed
                chunk = b""
            assert chunk, f"the console's output ended before {wanted!r}: {bytes(seen)!r}"
            seen += chunk


def test_read_the_console_after_typing(console_bmcs, store, discover, capsys):
    target, _ = console_bmcs[0]
    discover("C0")
    bmcops.set_access(store, "C0", "yes", target.address, target.port, target.user, target.password)
    # --keys' escapes: \r is a carriage return. The window is generous: the echo comes back in milliseconds.
    code = main(["--json", "machine-console", "C0", "--keys", r"hello\r", "--seconds", "10"], store_factory=lambda: store)
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert "HELLO\r" in result["output"]
    assert (result["serial"], result["bmc"], result["seconds"]) == ("C0", f"127.0.0.1:{target.port}", 10)
    audit = [json.loads(line) for line in (store.root / "audit.log").read_text().splitlines()]
    assert audit[-1]["operation"] == "machine_console"
    assert audit[-1]["params"]["keys"] == "***"  # what was typed on a console may be a password: never kept


def test_console_refusals_change_nothing(console_bmcs, store, discover, capsys):
    discover("C0")
    code = main(["machine-console", "C0", "--seconds", "2"], store_factory=lambda: store)
    assert code != 0
    assert "machine C0 has no BMC access configured" in capsys.readouterr().err
    target, _ = console_bmcs[0]
    bmcops.set_access(store, "C0", "yes", target.address, target.port, target.user, target.password)
    for argv, message in (
        (["--seconds", "0"], "invalid console time 0: expected 1 to 60 seconds"),
        (["--seconds", "61"], "invalid console time 61: expected 1 to 60 seconds"),
        (["--keys", "x" * 257], "invalid console keys: expected at most 256 ASCII characters"),
    ):
        assert main(["machine-console", "C0", *argv], store_factory=lambda: store) != 0
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_wrong_credentials_are_said_plainly(console_bmcs):
    target, _ = console_bmcs[1]
    wrong = Target(target.address, target.port, target.user, "not-the-password")
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(BmcError) as err:
            attach_console(wrong, read_fd, write_fd, guard=30)
        assert str(err.value) == f"BMC {target} refused the session"
        assert "not-the-password" not in str(err.value)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_attach_echoes_keys_and_leaves_on_the_escape(console_bmcs):
    target, _ = console_bmcs[0]
    keys_in, keys_out = os.pipe()
    screen_in, screen_out = os.pipe()
    ended: list[object] = []
    worker = threading.Thread(target=lambda: ended.append(attach_console(target, keys_in, screen_out, guard=30)), daemon=True)
    worker.start()
    try:
        seen = bytearray()
        # Typed until it comes back: the first keys may arrive before the session is active, and are then queued.
        os.write(keys_out, b"first line\r")
        _read_until(screen_in, b"FIRST LINE\r", seen)
        os.write(keys_out, b"~~tilde\r")  # ~~ at a line start sends one ~
        _read_until(screen_in, b"~TILDE\r", seen)
        os.write(keys_out, b"~.")
        worker.join(GUARD)
        assert not worker.is_alive()
        assert len(ended) == 1 and isinstance(ended[0], float)
    finally:
        for fd in (keys_in, keys_out, screen_in, screen_out):
            os.close(fd)
    # The session ran in a child: this process's next BMC call (itself in a forked child) still gets answers.
    assert PyghmiBmc(console_bmcs[1][0], Policy(timeout=10)).power_status() == "off"


def test_ocicli_attaches_a_terminal(console_bmcs, store, discover):
    target, _ = console_bmcs[0]
    discover("C0")
    bmcops.set_access(store, "C0", "yes", target.address, target.port, target.user, target.password)
    env = {**os.environ, "OCI_STATE_DIR": str(store.root)}
    env.pop("OCI_CONFIG", None)
    terminal, line = pty.openpty()
    proc = subprocess.Popen([str(REPO / "bin" / "ocicli"), "machine-console", "C0"], stdin=line, stdout=line, stderr=line, env=env)
    os.close(line)
    try:
        seen = bytearray()
        _read_until(terminal, b"~. at the start of a line leaves]", seen)
        os.write(terminal, b"echo me\r")
        _read_until(terminal, b"ECHO ME", seen)
        os.write(terminal, b"\r~.")
        _read_until(terminal, b"left the console of C0 after", seen)
        assert proc.wait(GUARD) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(terminal)
    audit = [json.loads(line) for line in (store.root / "audit.log").read_text().splitlines()]
    assert [entry["operation"] for entry in audit][-1] == "machine_console_attach"
    assert audit[-1]["outcome"] == "ok" and audit[-1]["actor"].startswith("local:")
