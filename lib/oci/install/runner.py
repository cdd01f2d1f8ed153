"""The step runner of ``oci-install``: a declared list of steps, each a name, an action and a teardown.

The steps run in order, each timed and reported to the master when it starts and when it ends (the status
protocol of docs/install.md). When one fails, the teardowns of every step that started, the failed one
included, run in reverse order (vmdb2's lesson: a teardown undoes whatever part of its step was done, so
it also works on a half-done step), then the failure is reported with the step and its error line. A
teardown that fails is logged and the others still run. Reporting is best effort: a master that does not
answer never stops an install (the log on the node keeps everything).
"""

from __future__ import annotations

import json
import logging
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from oci.agent.daemon import Poster
from oci.run import CommandError

LOG = logging.getLogger("oci-install")
MAX_ERROR = 300  # characters of the error line a failure report carries
REPORT_ATTEMPTS = 3

C = TypeVar("C")


def _nothing(context: object) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Step(Generic[C]):
    name: str
    action: Callable[[C], None]
    teardown: Callable[[C], None] = _nothing


class Reporter(Protocol):
    def started(self, step: str) -> None: ...

    def ended(self, step: str, seconds: float) -> None: ...

    def failed(self, step: str, error: str) -> None: ...

    def finished(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Failure:
    step: str
    error: str  # one line, at most MAX_ERROR characters


def error_line(exc: BaseException) -> str:
    """One line of at most MAX_ERROR characters: the first line of the message; for a command, its name and
    the last line it printed, which usually says why (its whole output is in the log)."""
    text = str(exc).strip().splitlines()
    line = " ".join(text[0].split()) if text else type(exc).__name__
    if isinstance(exc, CommandError) and exc.argv:
        what = line[len(shlex.join(exc.argv)) :].strip()
        said = [row.strip() for row in exc.output.splitlines() if row.strip()]
        line = f"{exc.argv[0]} {what}" + (f": {' '.join(said[-1].split())}" if said else "")
    hint = getattr(exc, "hint", None)
    if hint:
        line += f" ({hint})"
    return line if len(line) <= MAX_ERROR else line[: MAX_ERROR - 3] + "..."


def run_steps(steps: Sequence[Step[C]], context: C, reporter: Reporter, clock: Callable[[], float] = time.monotonic) -> Failure | None:
    """Run ``steps`` in order; None when all succeeded (``reporter.finished`` is then the caller's, once the
    machine is ready to reboot), else the failure, after the teardowns and its report."""
    started: list[Step[C]] = []
    for step in steps:
        started.append(step)
        LOG.info("step %s", step.name)
        reporter.started(step.name)
        begin = clock()
        try:
            step.action(context)
        except Exception as exc:  # any error of a step, a bug included, must still tear down
            failure = Failure(step.name, error_line(exc))
            LOG.error("step %s failed after %.1f s: %s", step.name, clock() - begin, exc)
            tear_down(started, context)
            reporter.failed(failure.step, failure.error)
            return failure
        seconds = round(clock() - begin, 2)
        LOG.info("step %s done in %.2f s", step.name, seconds)
        reporter.ended(step.name, seconds)
    return None


def tear_down(started: Sequence[Step[C]], context: C) -> None:
    for step in reversed(started):
        try:
            step.teardown(context)
        except Exception as exc:  # the other teardowns must still run
            LOG.error("teardown of %s failed: %s", step.name, exc)


class HttpReporter:
    """The status protocol over ``POST /api/v1/status`` (signed by the poster once the host key is certified),
    a few attempts per message; a message that cannot be delivered is logged and the install goes on."""

    def __init__(self, url: str, serial: str, post: Poster, sleep: Callable[[float], None] = time.sleep) -> None:
        self.url, self.serial, self.post, self.sleep = url, serial, post, sleep

    def started(self, step: str) -> None:
        self._send({"status": "installing", "step": step})

    def ended(self, step: str, seconds: float) -> None:
        self._send({"status": "installing", "step": step, "seconds": seconds})

    def failed(self, step: str, error: str) -> None:
        self._send({"status": "live", "step": step, "error": error})

    def finished(self) -> None:
        self._send({"status": "firstboot"})

    def _send(self, fields: dict[str, object]) -> None:
        body = json.dumps({"version": 1, "serial": self.serial, **fields}).encode()
        delay = 1.0
        for attempt in range(1, REPORT_ATTEMPTS + 1):
            try:
                code, text = self.post(self.url, body)
            except OSError as exc:
                code, text = 0, str(exc)
            if code == 200:
                return
            LOG.warning("status %s not taken (attempt %d): %s", fields["status"], attempt, f"HTTP {code} {text[:200]}" if code else text)
            if 400 <= code < 500:
                return  # refused: sending it again would not change the answer
            if attempt < REPORT_ATTEMPTS:
                self.sleep(delay)  # a pause between attempts, not a synchronisation
                delay *= 2
