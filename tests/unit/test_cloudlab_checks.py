"""The cloud lab's checks (lib/oci/cloudlab/checks.py): their judgements of the openstack client's JSON output, and
the runner's asking again, stopping and timing, with a stand-in client (a shell script printing given output)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oci.cloudlab import checks
from oci.cloudlab.image import BOOT_LINE

API = "cl1-api.cloud.example"
# Captured from the cloud lab's controller: `openstack endpoint list -f json` through the VIP.
ENDPOINTS = json.loads((Path(__file__).parents[1] / "data" / "cloudlab" / "endpoint-list.json").read_text())
LINUX_BRIDGE = {"Agent Type": "Linux bridge agent", "Alive": True, "State": True, "Binary": "neutron-linuxbridge-agent"}
AGENTS = [
    {"ID": "a", "Host": "cl1-controller-1", **LINUX_BRIDGE},
    {"ID": "b", "Host": "cl1-compute-1", **LINUX_BRIDGE},
    {"ID": "c", "Agent Type": "DHCP agent", "Host": "cl1-compute-1", "Alive": True, "State": True, "Binary": "neutron-dhcp-agent"},
]
EXPECTED = ("DHCP agent", "Linux bridge agent", "Linux bridge agent")
STORED = "stored in Swift\n"


def judge(check_title: str, output: object) -> str | None:
    check = next(c for c in checks.checks(API, "/tmp/image.raw", EXPECTED, "/tmp/object.txt", STORED) if c.title == check_title)
    assert check.judge is not None
    return check.judge(output if isinstance(output, str) else json.dumps(output))


def test_the_catalog_must_be_https_on_the_api_name():
    title = "every endpoint of the catalog is HTTPS on the API name"
    assert judge(title, ENDPOINTS) is None
    plain = [*ENDPOINTS, {**ENDPOINTS[0], "URL": "http://10.254.0.10:5000"}]
    assert judge(title, plain) == f"1 endpoint(s) not https://{API}: http://10.254.0.10:5000"
    assert judge(title, []) == "the catalog is empty"


def test_swift_must_return_what_it_stored():
    title = "and returns it"
    assert judge(title, STORED) is None
    assert judge(title, "") == f"0 bytes came back, not the {len(STORED)} stored"
    assert judge(title, STORED * 2) == f"{2 * len(STORED)} bytes came back, not the {len(STORED)} stored"


def test_swift_is_checked_before_glance_stores_its_image_there():
    titles = [c.title for c in checks.checks(API, "/tmp/image.raw", EXPECTED, "/tmp/object.txt", STORED)]
    assert titles.index("and returns it") < titles.index("Glance stores an image")
    stored = next(
        c for c in checks.checks(API, "/tmp/image.raw", EXPECTED, "/tmp/object.txt", STORED) if c.title == "and stores an object in it"
    )
    assert stored.argv == ("object", "create", checks.CONTAINER, "/tmp/object.txt", "--name", checks.OBJECT)


def test_agents_must_all_be_alive_and_each_expected_one_there():
    title = "Neutron lists its agents alive"
    assert judge(title, AGENTS) is None
    assert judge(title, AGENTS[1:]) == "missing: Linux bridge agent"
    dead = [*AGENTS[:2], {**AGENTS[2], "Alive": False}]
    assert judge(title, dead) == "not alive: DHCP agent on cl1-compute-1"


def test_the_compute_service_must_be_up_and_a_server_in_error_ends_the_wait():
    title = "Nova lists the compute service up"
    assert judge(title, []) == "no nova-compute service yet"
    assert judge(title, [{"Binary": "nova-compute", "Host": "cl1-compute-1", "State": "down"}]) == "nova-compute of cl1-compute-1 is down"
    assert judge(title, [{"Binary": "nova-compute", "Host": "cl1-compute-1", "State": "up"}]) is None
    active = "the server is ACTIVE"
    assert judge(active, {"status": "BUILD"}) == "status is BUILD, not ACTIVE"
    with pytest.raises(checks.CheckFailed, match="status is ERROR: No valid host"):
        judge(active, {"status": "ERROR", "fault": "No valid host"})
    assert judge("its console shows the image's boot line", f"SeaBIOS\r\n{BOOT_LINE}\r\n") is None


def client(tmp_path: Path, answers: list[tuple[int, str]]) -> list[str]:
    """A stand-in for the client: its nth call prints the nth answer and exits with its code (the last one repeats)."""
    for number, (code, text) in enumerate(answers):
        (tmp_path / f"answer{number}").write_text(f"{code}\n{text}")
    script = tmp_path / "openstack"
    script.write_text(
        "#!/bin/sh\n"
        f'cd {tmp_path}; n=$(cat calls 2>/dev/null || echo 0); echo $((n + 1)) > calls; echo "$*" >> argv\n'
        f'[ -f answer$n ] || n={len(answers) - 1}\n'
        'code=$(head -n 1 answer$n); tail -n +2 answer$n; exit $code\n'
    )  # fmt: skip
    script.chmod(0o755)
    return [str(script)]


def test_the_runner_asks_again_until_it_passes_and_stops_at_the_first_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "POLL", 0.0)
    items = (
        checks.Check("comes with time", ("compute", "service", "list"), lambda out: None if json.loads(out) else "empty", wait=60),
        checks.Check("fails", ("network", "create", "x"), None),
        checks.Check("never run", ("server", "list"), None),
    )
    said: list[str] = []
    results = checks.run_checks(items, client(tmp_path, [(0, "[]"), (0, "[1]"), (1, "Error: quota exceeded")]), {}, said.append)
    assert [(r.title, r.problem) for r in results] == [("comes with time", None), ("fails", "Error: quota exceeded")]
    assert (tmp_path / "argv").read_text().splitlines() == ["compute service list -f json"] * 2 + ["network create x -f json"]
    assert said[0].startswith("  ok   comes with time") and said[1].startswith("  FAIL fails") and said[1].endswith("Error: quota exceeded")


def test_a_state_that_does_not_come_fails_when_its_guard_expires(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "POLL", 0.0)
    item = checks.Check("never comes", ("hypervisor", "list"), lambda out: "no hypervisor yet", wait=0.05)
    [result] = checks.run_checks((item,), client(tmp_path, [(0, "[]")]), {}, lambda line: None)
    assert result.problem == "no hypervisor yet" and result.seconds >= 0.05  # asked until the guard, however fast


def test_the_deployed_clouds_answers_pass_their_checks():
    """What the lab's cloud answered once every check passed (2026-12-07, docs/cloud.md), judged again."""
    from oci.cloudlab.main import AGENTS as LAB_AGENTS

    captured = Path(__file__).parents[1] / "data" / "cloudlab"
    lab = {c.title: c for c in checks.checks(API, "/tmp/image.raw", LAB_AGENTS, "/tmp/object.txt", STORED)}
    answers = {
        "Nova lists the compute service up": "compute-service-list.json",
        "Placement and Nova know the hypervisor": "hypervisor-list.json",
        "Neutron lists its agents alive": "network-agent-list.json",
        "the server is ACTIVE": "server-show.json",
        "its console shows the image's boot line": "console-log-show.txt",
    }
    for title, name in answers.items():
        check = lab[title]
        assert check.judge is not None
        assert check.judge((captured / name).read_text()) is None, title
