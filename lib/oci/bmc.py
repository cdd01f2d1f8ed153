"""Out-of-band control of machines through their BMC (IPMI over LAN, with pyghmi).

Every call runs in a short-lived child process with a hard timeout: pyghmi keeps sessions in threads of
its own and can hang (environment-notes §2: threads stuck in ``set_power(wait=True)``), and a hung child
is simply killed. Calls to one BMC are serialised with a lock file and spaced by a minimum interval, so a
fleet-wide action never floods a BMC (peers' users report BMCs that wedge under frequent polling).
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import time
from collections.abc import Iterator
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

    def _call(self, operation: str, **args: Any) -> Any:
        context = multiprocessing.get_context("fork")
        last_error = "no answer"
        for _attempt in range(self.policy.retries + 1):
            queue: Any = context.Queue()
            with self._turn():
                child = context.Process(target=_pyghmi_call, args=(self.target, operation, args, queue), daemon=True)
                child.start()
                child.join(self.policy.timeout)
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
