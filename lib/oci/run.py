"""The one place that starts processes: argv lists only (never a shell), a fixed locale, stdin closed unless
the caller gives its bytes, explicit timeouts and accepted return codes, and one error type that shows the command and its output."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from oci.errors import OciError


class CommandError(OciError):
    def __init__(self, argv: Sequence[str], returncode: int | None, output: str = "") -> None:
        command = shlex.join(argv)
        if returncode is None:
            what = "timed out"
        elif returncode == 127:
            what = "not found (exit code 127)"
        elif returncode < 0:
            what = f"killed by signal {-returncode}"
        else:
            what = f"failed with exit code {returncode}"
        detail = "\n".join(f"  {line}" for line in output.strip().splitlines()[-20:])
        super().__init__(f"{command} {what}" + (f"\n{detail}" if detail else ""))
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env.update({"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    env.update(extra or {})
    return env


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    accept: Sequence[int] = (0,),
    capture: bool = True,
    input_text: str | None = None,
    input_bytes: bytes | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to completion; raise ``CommandError`` unless its exit code is in ``accept``.

    ``input_text`` or ``input_bytes`` (a file handed over as is, a bundle) is written to its stdin."""
    assert input_text is None or input_bytes is None, "one input"
    try:
        if input_bytes is not None:
            raw = subprocess.run(list(argv), input=input_bytes, capture_output=capture, timeout=timeout, env=environment(env), check=False)
            done = subprocess.CompletedProcess(raw.args, raw.returncode, _text(raw.stdout), _text(raw.stderr))
        else:
            done = subprocess.run(
                list(argv),
                input=input_text,
                stdin=None if input_text is not None else subprocess.DEVNULL,
                capture_output=capture,
                text=True,
                timeout=timeout,
                env=environment(env),
                check=False,
            )
    except FileNotFoundError:
        raise CommandError(argv, 127) from None
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else _text(exc.stdout)
        raise CommandError(argv, None, output) from None
    if done.returncode not in accept:
        raise CommandError(argv, done.returncode, (done.stdout or "") + (done.stderr or ""))
    return done


def _text(output: bytes | None) -> str:
    # Output shown in messages only: a byte that is not UTF-8 must not hide the rest.
    return output.decode("utf-8", "replace") if output else ""


def spawn(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a long-running process (a daemon of the PoC or of a test); the caller stops it. ``log``: a file
    its output goes to (else the caller's)."""
    try:
        if log is not None:
            with log.open("ab") as out:
                return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, env=environment(env), cwd=cwd, stdout=out, stderr=out)
        return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, env=environment(env), cwd=cwd)
    except FileNotFoundError:
        raise CommandError(argv, 127) from None


def stop(process: subprocess.Popen[Any], guard: float = 60) -> None:
    """Terminate a daemon started with ``spawn`` (or by a test), and reap it; killed if it has not stopped
    within ``guard`` seconds (a JVM's shutdown is slow on a loaded machine)."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=guard)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
