"""Out-of-band control of machines through their BMC (IPMI over LAN, with pyghmi).

Every call runs in a short-lived child process with a hard timeout: pyghmi keeps sessions in threads of
its own and can hang (environment-notes §2: threads stuck in ``set_power(wait=True)``), and a hung child
is simply killed. Calls to one BMC are serialised with a lock file and spaced by a minimum interval, so a
fleet-wide action never floods a BMC (peers' users report BMCs that wedge under frequent polling).

The serial-over-LAN console is read the same way (``console``: what it shows in a few seconds, after the
keys given), or attached to a terminal (``attach_console``: in a child process too, until the operator types
``~.`` at the start of a line, as with ssh and ``ipmitool sol activate``).
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import select
import termios
import time
import tty
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from oci.errors import InvalidInput, OciError


class BmcError(OciError):
    status_code = 502


class PowerAction(StrEnum):
    ON = "on"
    OFF = "off"
    CYCLE = "cycle"
    RESET = "reset"
    SHUTDOWN = "shutdown"  # soft: ask the operating system


class BootDevice(StrEnum):
    NETWORK = "network"
    DISK = "hd"


@dataclass(frozen=True)
class Target:
    address: str
    port: int = 623
    user: str = ""
    password: str = ""  # never logged, never in a message

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"


@dataclass(frozen=True)
class Policy:
    timeout: float = 10.0  # per attempt
    retries: int = 1  # attempts after the first, for a BMC that did not answer
    min_interval: float = 0.2  # between two calls to the same BMC
    lock_dir: Path | None = None  # where the per-BMC lock files live (None: no cross-process serialisation)


def _pyghmi_call(target: Target, operation: str, args: dict[str, Any], result: Any) -> None:
    """Runs in the child process."""
    from pyghmi.exceptions import IpmiException
    from pyghmi.ipmi import command

    if operation == "console":
        result.put(_capture_console(target, args["seconds"], args["keys"]))
        return
    try:
        session = command.Command(bmc=target.address, userid=target.user, password=target.password, port=target.port)
    except IpmiException as exc:
        text = str(exc)
        if "password" in text.lower() or "unauthorized" in text.lower():
            result.put(("session", text))  # it answered, and refused the credentials
        else:  # pyghmi gave up waiting, before the parent's hard timeout: nothing answers at that address
            result.put(("silent", "" if text in ("", "None") else text))
        return
    except Exception as exc:  # it answered, but the handshake failed (pyghmi 1.5 says so with a TypeError)
        result.put(("session", f"{type(exc).__name__}: {exc}"))
        return
    try:
        if operation == "power_status":
            value = session.get_power()["powerstate"]
        elif operation == "power":
            # pyghmi's "boot" is a power cycle when the machine is on, and power-on when it is off.
            value = session.set_power({"cycle": "boot"}.get(args["action"], args["action"]), wait=False)
            value = value.get("pendingpowerstate") or value.get("powerstate")
        elif operation == "boot":
            value = session.set_bootdev(args["device"], persist=args["persistent"], uefiboot=args["uefi"])["bootdev"]
        elif operation == "info":
            raw = session.xraw_command(netfn=6, command=1)  # Get Device ID
            data = bytes(raw["data"])
            value = {"device_id": data[0], "firmware": f"{data[2] & 0x7F}.{data[3]:02x}", "ipmi_version": f"{data[4] & 0xF}.{data[4] >> 4}"}
        else:
            raise ValueError(operation)
        result.put(("ok", value))
    except IpmiException as exc:
        result.put(("error", str(exc)))
    except Exception as exc:  # anything else pyghmi may throw: reported, never a hang
        result.put(("error", f"{type(exc).__name__}: {exc}"))


class _SolSession:
    """pyghmi's SOL console, with what it received and the error that ended it."""

    def __init__(self, target: Target, on_output: Callable[[bytes], object]) -> None:
        from pyghmi.ipmi import console

        self.error = ""
        self._on_output = on_output
        # force: take the console over from another client (a forgotten session would otherwise lock it).
        self.console = console.Console(target.address, target.user, target.password, self._received, port=target.port, force=True)

    def _received(self, data: Any) -> None:
        if isinstance(data, dict):
            if "error" in data:
                self.error = self.error or str(data["error"])
            return
        self._on_output(data if isinstance(data, bytes) else str(data).encode())

    def pump(self, seconds: float) -> None:
        """Let pyghmi work for ``seconds``: it delivers what the console printed to the handler."""
        from pyghmi.ipmi import console

        until = time.monotonic() + seconds
        while not self.console.broken and (left := until - time.monotonic()) > 0:
            console.Console.wait_for_rsp(min(left, 0.2))

    def wait_connected(self, guard: float) -> tuple[str, str] | None:
        """None once the console is active, else (kind, message) as ``_pyghmi_call`` reports a failure."""
        until = time.monotonic() + guard
        while not self.console.connected and not self.console.broken and time.monotonic() < until:
            self.pump(0.2)
        if self.console.connected and not self.console.broken:
            return None
        text = self.error or "no answer"
        if "password" in text.lower() or "unauthorized" in text.lower() or "privilege" in text.lower():
            return ("session", text)
        if text in ("timeout", "no answer"):
            return ("silent", "")
        return ("error", f"serial-over-LAN console: {text}")

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a broken session must not hide why it broke
            self.console.close()


def _capture_console(target: Target, seconds: float, keys: str) -> tuple[str, Any]:
    received = bytearray()
    sol = _SolSession(target, received.extend)
    try:
        failure = sol.wait_connected(guard=30)  # the parent's hard timeout comes first when the BMC is silent
        if failure is not None:
            return failure
        if keys:
            sol.console.send_data(keys.encode())
        sol.pump(seconds)
        if sol.console.broken:
            return ("error", f"serial-over-LAN console: {sol.error}")
        return ("ok", received.decode("utf-8", errors="replace"))
    finally:
        sol.close()


class EscapeReader:
    """The operator's keys, with ssh's escape: ``~.`` at the start of a line leaves, ``~~`` sends one ``~``."""

    def __init__(self) -> None:
        self._line_start = True
        self._tilde = False
        self.left = False

    def feed(self, data: bytes) -> bytes:
        """What to send to the console of the keys ``data``; sets ``left`` on the escape."""
        out = bytearray()
        for byte in data:
            char = bytes((byte,))
            if self._tilde:
                self._tilde = False
                if char == b".":
                    self.left = True
                    return bytes(out)
                out += b"~" if char == b"~" else b"~" + char
            elif char == b"~" and self._line_start:
                self._tilde = True
                continue
            else:
                out += char
            self._line_start = char in (b"\r", b"\n")
        return bytes(out)


def attach_console(target: Target, in_fd: int = 0, out_fd: int = 1, guard: float = 30) -> float:
    """The console on a terminal until ``~.`` or the end of input; returns how long it was attached.

    A terminal is put in raw mode (every key goes to the machine, Ctrl-C included) and restored on the way out.
    The session runs in a child process, as every other BMC call: pyghmi's sessions live in module state and a
    thread of its own, which a process forked later (the next BMC call's child) would inherit broken.
    """
    context = multiprocessing.get_context("fork")
    result: Any = context.Queue()
    saved = termios.tcgetattr(in_fd) if os.isatty(in_fd) else None
    started = time.monotonic()
    child = context.Process(target=_attach, args=(target, in_fd, out_fd, guard, result), daemon=True)
    child.start()
    try:
        child.join()
    finally:
        if child.is_alive():  # the parent was interrupted: the session goes with it
            child.kill()
            child.join()
        if saved is not None:  # the child restores the terminal; a killed child cannot
            termios.tcsetattr(in_fd, termios.TCSADRAIN, saved)
    try:
        kind, value = result.get(timeout=1)
    except Exception:
        raise BmcError(f"BMC {target}: the console's worker died") from None
    if kind == "session":
        raise BmcError(f"BMC {target} refused the session", hint="check the user and password (machine-set-ipmi)")
    if kind != "ok":
        raise BmcError(f"BMC {target}: {value}")
    return time.monotonic() - started


def _attach(target: Target, in_fd: int, out_fd: int, guard: float, result: Any) -> None:
    """Runs in the child process: ("ok", None), ("session", why) or ("error", why) in ``result``."""
    sol = _SolSession(target, lambda data: os.write(out_fd, data))
    saved = termios.tcgetattr(in_fd) if os.isatty(in_fd) else None
    try:
        failure = sol.wait_connected(guard)
        if failure is not None:
            kind, text = failure
            result.put((kind if kind == "session" else "error", text or f"no answer within {guard:.0f} s"))
            return
        if saved is not None:
            tty.setraw(in_fd)
        # Said once connected, in raw mode: what the operator types from now on reaches the machine.
        os.write(out_fd, f"[the serial console through BMC {target}: ~. at the start of a line leaves]\r\n".encode())
        keys = EscapeReader()
        while not keys.left and not sol.console.broken:
            ready, _, _ = select.select([in_fd], [], [], 0.1)
            if ready:
                data = os.read(in_fd, 1024)
                if not data:  # end of input: as if the operator left
                    break
                to_send = keys.feed(data)
                if to_send:
                    sol.console.send_data(to_send)
            sol.pump(0.05)
        result.put(("error", f"the console closed: {sol.error}") if sol.console.broken else ("ok", None))
    except Exception as exc:  # reported, never a traceback on the operator's terminal
        result.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        if saved is not None:
            termios.tcsetattr(in_fd, termios.TCSADRAIN, saved)
        sol.close()


class PyghmiBmc:
    def __init__(self, target: Target, policy: Policy | None = None) -> None:
        self.target = target
        self.policy = policy or Policy()

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """This process's turn at this BMC: an exclusive lock, then the minimum interval since the last call."""
        if self.policy.lock_dir is None:
            yield
            return
        self.policy.lock_dir.mkdir(parents=True, exist_ok=True)
        path = self.policy.lock_dir / f"bmc-{self.target.address}-{self.target.port}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            last = os.fstat(fd).st_mtime
            wait = last + self.policy.min_interval - time.time()
            if wait > 0:
                time.sleep(min(wait, self.policy.min_interval))
            yield
            os.utime(fd)
        finally:
            os.close(fd)

    def _call(self, operation: str, extra_time: float = 0.0, **args: Any) -> Any:
        context = multiprocessing.get_context("fork")
        last_error = "no answer"
        for _attempt in range(self.policy.retries + 1):
            queue: Any = context.Queue()
            with self._turn():
                child = context.Process(target=_pyghmi_call, args=(self.target, operation, args, queue), daemon=True)
                child.start()
                child.join(self.policy.timeout + extra_time)
                if child.is_alive():
                    child.kill()
                    child.join()
                    last_error = f"no answer within {self.policy.timeout:.0f} s"
                    continue
            try:
                kind, value = queue.get(timeout=1)
            except Exception:
                last_error = "the IPMI worker died"
                continue
            if kind == "ok":
                return value
            if kind == "silent":  # the same words whichever gave up first, pyghmi or the hard timeout
                last_error = f"no answer within {self.policy.timeout:.0f} s" + (f" ({value})" if value else "")
                continue
            if kind == "session":  # it answered, but no session: credentials, or a BMC pyghmi cannot talk to
                raise BmcError(f"BMC {self.target} refused the session", hint="check the user and password (machine-set-ipmi)")
            last_error = value
        raise BmcError(f"BMC {self.target}: {last_error}")

    def power_status(self) -> str:
        return str(self._call("power_status"))

    def power(self, action: PowerAction | str) -> str:
        try:
            action = PowerAction(action)
        except ValueError:
            raise InvalidInput(f"unknown power action {action!r}", hint="one of " + ", ".join(a.value for a in PowerAction)) from None
        return str(self._call("power", action=action.value))

    def set_boot(self, device: BootDevice | str, persistent: bool = False, uefi: bool = False) -> str:
        try:
            device = BootDevice(device)
        except ValueError:
            raise InvalidInput(f"unknown boot device {device!r}", hint="network or hd") from None
        return str(self._call("boot", device=device.value, persistent=persistent, uefi=uefi))

    def info(self) -> dict[str, Any]:
        value: dict[str, Any] = self._call("info")
        return value

    def console(self, seconds: float, keys: str = "") -> str:
        """What the serial-over-LAN console shows in ``seconds``, after typing ``keys``."""
        return str(self._call("console", extra_time=seconds, seconds=seconds, keys=keys))
