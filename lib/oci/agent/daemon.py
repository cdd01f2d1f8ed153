"""``oci-discover``: the discovery agent of the live image.

One report at start, then one per interval (30 s by default) at a random moment inside each interval, so a
thousand machines that booted together do not post together (the reference agent's schedule). A report the
master does not take (no answer, HTTP 5xx) is retried with doubling delays within the interval; a report
it refuses (HTTP 4xx) is not retried, since sending it again would not change the answer. An exclusive
lock keeps two agents from running at once. When the master numbers the machine's BMC, its reply carries
the settings and the agent applies them in-band (oci.agent.bmcconf). Once the master has certified the
node's host key, reports are signed with it (oci.agent.signing), so they prove which machine sends them.
Time, sleeping, randomness and the network are passed in, so tests drive the schedule with a fake clock.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oci.agent import bmcconf, signing
from oci.agent.collect import collect
from oci.cli.edge import edge
from oci.discover.report import build
from oci.errors import OciError
from oci.run import CommandError

LOG = logging.getLogger("oci-discover")
SERVER_FILE = Path("/etc/oci/pxe-server-ip")
LOCK_FILE = Path("/run/lock/oci-discover.lock")
HOST_KEY = Path("/etc/ssh/ssh_host_ed25519_key")

Poster = Callable[[str, bytes], tuple[int, str]]  # (url, body) -> (HTTP status, body); OSError when unreachable


class AgentError(OciError):
    """The agent cannot do its job (no master address, report not delivered): nothing to retry here."""


@dataclass
class Clock:
    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def server_url(option: str | None, server_file: Path = SERVER_FILE) -> str:
    """The report URL, from ``--server`` (a URL, or HOST[:PORT]) or the file the live image carries."""
    value = option
    if value is None:
        try:
            value = server_file.read_text().strip()
        except OSError:
            raise AgentError(f"no master address: give --server or write it in {server_file}") from None
    if not value:
        raise AgentError(f"no master address: {server_file} is empty")
    url = (value if "://" in value else f"http://{value}").rstrip("/")
    return url if url.endswith("/api/v1/report") else f"{url}/api/v1/report"


def http_post(url: str, body: bytes, headers: Mapping[str, str] | None = None, timeout: float = 10) -> tuple[int, str]:
    import requests  # the live image has python3-requests; imported here to keep --print light

    try:
        response = requests.post(url, data=body, headers={"Content-Type": "application/json", **(headers or {})}, timeout=timeout)
    except requests.RequestException as exc:
        raise OSError(str(exc)) from exc
    return response.status_code, response.text


class Agent:
    def __init__(
        self,
        url: str,
        make_report: Callable[[], dict[str, Any]],
        post: Poster = http_post,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        interval: float = 30.0,
        retries: int = 4,
        on_reply: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.url = url
        self.make_report = make_report
        self.post = post
        self.clock = clock or Clock()
        self.rng = rng or random.Random()  # noqa: S311 (spreading reports in time, not secrecy)
        self.interval = interval
        self.retries = retries
        self.on_reply = on_reply  # sees the data of each reply the master took (it may carry BMC settings)

    def send(self, body: bytes, deadline: float) -> bool:
        """Post once, then retry after 1, 2, 4... s while the master does not take it, until ``deadline``."""
        delay = 1.0
        for attempt in range(1, self.retries + 2):
            try:
                status, text = self.post(self.url, body)
            except OSError as exc:
                status, text = 0, str(exc)
            if status == 200:
                if self.on_reply is not None:
                    self.on_reply(_data(text))
                return True
            if 400 <= status < 500:
                LOG.error("report refused (HTTP %d): %s", status, _message(text))
                return False
            LOG.warning("report not taken (attempt %d): %s", attempt, f"HTTP {status}" if status else text)
            if attempt > self.retries or self.clock.now() + delay > deadline:
                break
            self.clock.sleep(delay)
            delay *= 2
        LOG.error("report not delivered to %s", self.url)
        return False

    def run_once(self, deadline: float | None = None) -> bool:
        started = self.clock.now()
        body = json.dumps(self.make_report()).encode()
        return self.send(body, deadline if deadline is not None else started + self.interval)

    def run_forever(self, windows: int | None = None) -> None:
        """A report now, then one at a random moment of each following interval (``windows`` bounds the loop)."""
        window = self.clock.now()
        self.run_once(window + self.interval)
        done = 0
        while windows is None or done < windows:
            window += self.interval
            self._sleep_until(window + self.rng.uniform(0, self.interval))
            self.run_once(window + self.interval)
            done += 1

    def _sleep_until(self, moment: float) -> None:
        remaining = moment - self.clock.now()
        if remaining > 0:
            self.clock.sleep(remaining)


def _data(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text).get("data")
    except (ValueError, AttributeError):
        return {}
    return data if isinstance(data, dict) else {}


def _message(text: str) -> str:
    try:
        return str(json.loads(text).get("message", text))
    except (ValueError, AttributeError):
        return text[:200]


def poster(host_key: Path) -> Poster:
    """Plain posts, or posts signed with ``host_key`` once the master has certified it (oci.agent.signing):
    checked at each request, since the certificate arrives after the first report (oci-live-host-key)."""
    sign = signing.signer(host_key)

    def post(url: str, body: bytes) -> tuple[int, str]:
        headers = None
        if signing.certified(host_key):
            try:
                headers = sign("POST", url, body)
            except (CommandError, ValueError) as exc:  # unsigned, the request still counts from the machine's own address
                LOG.warning("request not signed: %s", str(exc).splitlines()[0])
        return http_post(url, body, headers)

    return post


@contextlib.contextmanager
def single_instance(path: Path) -> Iterator[None]:
    """Hold an exclusive lock for the life of the agent; a second agent stops at once, saying why."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise AgentError(f"another oci-discover is running (lock {path})") from None
            raise
        yield
    finally:
        os.close(fd)


@edge("oci-discover")
def main(argv: list[str] | None = None, clock: Clock | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="oci-discover",
        description="Report this machine's hardware to the OCI master: once at start, then every interval.",
        epilog="Exit codes: 0 report delivered (or printed), 1 error or report not delivered, 2 usage.",
    )
    parser.add_argument("--server", metavar="URL", help=f"master URL or HOST[:PORT] (default: read from {SERVER_FILE})")
    parser.add_argument("--once", action="store_true", help="send one report and exit")
    parser.add_argument("--print", action="store_true", help="print the report as JSON and send nothing")
    parser.add_argument("--interval", type=float, default=30.0, metavar="SECONDS", help="seconds between reports (default 30)")
    parser.add_argument("--no-bmc", action="store_true", help="never configure the BMC, even when the master sends settings")
    parser.add_argument("--lock", type=Path, default=LOCK_FILE, help=f"lock file (default {LOCK_FILE})")
    parser.add_argument("--host-key", type=Path, default=HOST_KEY,
                        help=f"sign reports with this key once the master has certified it (default {HOST_KEY})")  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.interval <= 0:
        parser.error("--interval must be positive")

    def make_report() -> dict[str, Any]:
        started = time.monotonic()
        body = build(collect())
        LOG.info("collected in %.1f s (%d error(s))", time.monotonic() - started, len(body.get("errors", [])))
        return body

    if args.print:
        print(json.dumps(make_report(), indent=2, sort_keys=True))
        return 0
    configure_bmc = None if args.no_bmc else bmcconf.Configurator()
    post = poster(args.host_key)
    agent = Agent(server_url(args.server), make_report, post=post, clock=clock, interval=args.interval, on_reply=configure_bmc)
    with single_instance(args.lock):
        if args.once:
            return 0 if agent.run_once() else 1
        try:
            agent.run_forever()
        except KeyboardInterrupt:
            return 0  # a daemon run by hand is stopped with Ctrl-C: a clean stop, not a failure
    return 0
