"""What the cloud lab asks the deployed cloud, through its own APIs, with the ``openstack`` client from the master.

Each check is a command of the client and a judgement of its JSON output (pure: ``judge`` takes the output and
says what is wrong, or nothing). A check whose state comes with time (a service registering, a server
booting) is asked again until it passes or its guard expires; ``run`` stops at the first failure, since the
later checks use what the earlier ones made.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from oci.cloudlab.image import BOOT_LINE
from oci.run import CommandError, run

IMAGE, FLAVOR, NETWORK, SUBNET, ROUTER, SERVER = (
    "oci-lab-image", "oci-lab-tiny", "oci-lab-net", "oci-lab-subnet", "oci-lab-router", "oci-lab-server",
)  # fmt: skip
CONTAINER, OBJECT = "oci-lab-container", "oci-lab-object"
SUBNET_RANGE = "192.168.50.0/24"
POLL = 10.0  # seconds between two askings of a state that comes with time
COMMAND_LIMIT = 600.0  # one client command: a guard


def _rows(output: str) -> list[dict[str, Any]]:
    data = json.loads(output or "[]")
    return data if isinstance(data, list) else [data]


def _has_id(output: str) -> str | None:
    return None if _rows(output)[0].get("id") else "no id in the answer"


def _https_endpoints(api_hostname: str) -> Callable[[str], str | None]:
    def judge(output: str) -> str | None:
        rows = _rows(output)
        if not rows:
            return "the catalog is empty"
        wrong = [r["URL"] for r in rows if not str(r["URL"]).startswith(f"https://{api_hostname}:")]
        return f"{len(wrong)} endpoint(s) not https://{api_hostname}: {wrong[0]}" if wrong else None

    return judge


def _field(name: str, wanted: str, failed: str | None = None) -> Callable[[str], str | None]:
    def judge(output: str) -> str | None:
        value = str(_rows(output)[0].get(name))
        if failed is not None and value == failed:
            raise CheckFailed(f"{name} is {value}: {_rows(output)[0].get('fault') or 'no fault given'}")
        return None if value == wanted else f"{name} is {value}, not {wanted}"

    return judge


def _compute_up(output: str) -> str | None:
    rows = _rows(output)
    if not rows:
        return "no nova-compute service yet"
    down = [r["Host"] for r in rows if r.get("State") != "up"]
    return f"nova-compute of {', '.join(down)} is down" if down else None


def _hypervisors(output: str) -> str | None:
    return None if _rows(output) else "no hypervisor yet (the compute is found by the scheduler's discovery, every 2 minutes)"


def _agents_alive(expected: Sequence[str]) -> Callable[[str], str | None]:
    def judge(output: str) -> str | None:
        rows = _rows(output)
        dead = [f"{r['Agent Type']} on {r['Host']}" for r in rows if r.get("Alive") not in (True, ":-)")]
        if dead:
            return f"not alive: {', '.join(dead)}"
        types = sorted(r["Agent Type"] for r in rows)
        missing = sorted({t for t in expected if types.count(t) < list(expected).count(t)})
        return f"missing: {', '.join(missing)}" if missing else None

    return judge


def _returns(content: str) -> Callable[[str], str | None]:
    def judge(output: str) -> str | None:
        return None if output == content else f"{len(output)} bytes came back, not the {len(content)} stored"

    return judge


def _console_shows(line: str) -> Callable[[str], str | None]:
    def judge(output: str) -> str | None:
        return None if line in output else "the boot line is not on the console yet"

    return judge


class CheckFailed(Exception):
    """A state that will not come (a server in ERROR): no point in asking again."""


@dataclass(frozen=True, slots=True)
class Check:
    title: str
    argv: tuple[str, ...]  # the client's arguments
    judge: Callable[[str], str | None] | None = None  # None: the command's success is enough
    wait: float = 0.0  # ask again for that long while the judgement is not good; 0: once
    json: bool = True  # -f json appended


@dataclass(frozen=True, slots=True)
class Result:
    title: str
    seconds: float
    problem: str | None  # None: passed

    def line(self) -> str:
        mark = "ok  " if self.problem is None else "FAIL"
        return f"  {mark} {self.title:<58} {self.seconds:7.1f} s" + (f"  {self.problem}" if self.problem else "")


def checks(api_hostname: str, image_file: str, agents: Sequence[str], object_file: str, object_content: str) -> tuple[Check, ...]:
    """The checks, in order, for a cloud whose API is at ``api_hostname``; ``image_file``: the image to upload;
    ``agents``: the Neutron agent types expected, one per agent; ``object_file``: a file holding ``object_content``,
    stored in Swift (before Glance stores its image there)."""
    return (
        Check("Keystone issues a token", ("token", "issue"), _has_id),
        Check("every endpoint of the catalog is HTTPS on the API name", ("endpoint", "list"), _https_endpoints(api_hostname)),
        Check("Swift creates a container, through its proxy", ("container", "create", CONTAINER)),
        Check("and stores an object in it", ("object", "create", CONTAINER, object_file, "--name", OBJECT)),
        Check("and returns it", ("object", "save", CONTAINER, OBJECT, "--file", "-"), _returns(object_content), json=False),
        Check(
            "Glance stores an image",
            ("image", "create", IMAGE, "--disk-format", "raw", "--container-format", "bare", "--public", "--file", image_file),
            _has_id,
        ),  # fmt: skip
        Check("the image is active", ("image", "show", IMAGE), _field("status", "active"), wait=300),
        Check(
            "Nova lists the compute service up", ("compute", "service", "list", "--service", "nova-compute"), _compute_up, wait=900
        ),  # fmt: skip
        Check("Placement and Nova know the hypervisor", ("hypervisor", "list"), _hypervisors, wait=600),
        Check("Neutron lists its agents alive", ("network", "agent", "list"), _agents_alive(agents), wait=600),
        Check("Neutron creates a network", ("network", "create", NETWORK), _has_id),
        Check("and a subnet", ("subnet", "create", SUBNET, "--network", NETWORK, "--subnet-range", SUBNET_RANGE), _has_id),
        Check("and a router on it", ("router", "create", ROUTER), _has_id),
        Check("the router gets the subnet", ("router", "add", "subnet", ROUTER, SUBNET), json=False),
        Check("a flavor for a tiny server", ("flavor", "create", FLAVOR, "--ram", "64", "--disk", "1", "--vcpus", "1"), _has_id),
        Check(
            "Nova boots a server from the image",
            ("server", "create", SERVER, "--image", IMAGE, "--flavor", FLAVOR, "--network", NETWORK),
            _has_id,
        ),  # fmt: skip
        Check("the server is ACTIVE", ("server", "show", SERVER), _field("status", "ACTIVE", failed="ERROR"), wait=3600),
        Check(
            "its console shows the image's boot line", ("console", "log", "show", SERVER), _console_shows(BOOT_LINE), wait=600, json=False
        ),  # fmt: skip
    )


def run_checks(items: Sequence[Check], command: Sequence[str], env: Mapping[str, str], say: Callable[[str], None]) -> list[Result]:
    """Each check in turn with ``command`` + its arguments (the client, in the lab's namespace); stops at the
    first failure. Prints each result as it comes."""
    results: list[Result] = []
    for check in items:
        result = _one(check, command, env)
        say(result.line())
        results.append(result)
        if result.problem is not None:
            break
    return results


def _one(check: Check, command: Sequence[str], env: Mapping[str, str]) -> Result:
    started = time.monotonic()
    argv = [*command, *check.argv, *(("-f", "json") if check.json else ())]
    while True:
        try:
            output = run(argv, env=env, timeout=COMMAND_LIMIT).stdout
            problem = check.judge(output) if check.judge else None
        except CommandError as exc:
            problem = (exc.output.strip().splitlines() or [f"exit code {exc.returncode}"])[-1]
        except CheckFailed as exc:
            return Result(check.title, time.monotonic() - started, str(exc))
        if problem is None or time.monotonic() - started >= check.wait:
            return Result(check.title, time.monotonic() - started, problem)
        time.sleep(POLL)  # a state that comes with time: nothing tells when, so ask again
