"""The discovery agent: collectors with a fake runner, the schedule, retries and lock with a fake clock."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from oci.agent import daemon
from oci.agent.collect import LSBLK, collect
from oci.agent.daemon import Agent, AgentError, Clock, server_url, single_instance
from oci.discover.report import build, from_capture_folder
from oci.run import CommandError

HW = REPO / "tests" / "data" / "hw"


def capture_runner(folder: Path):
    """Answer each command with the file captured for it; a missing file is a missing tool."""
    files = {
        ("dmidecode",): "dmidecode.txt",
        tuple(LSBLK): "lsblk.json",
        ("ip", "-j", "link", "show"): "ip-link.json",
        ("lldpctl", "-f", "json"): "lldpctl.json",
        ("lscpu", "-J"): "lscpu.json",
        ("lsmem", "-J", "-b"): "lsmem.json",
        ("ipmitool", "mc", "info"): "ipmitool-mc-info.txt",
        ("ipmitool", "lan", "print"): "ipmitool-lan-print.txt",
    }
    calls = []

    def run(argv):
        calls.append(list(argv))
        key = tuple(argv)
        name = files.get(key)
        if key[:2] == ("ethtool", "-i"):
            name = f"ethtool-i-{key[2]}.txt"
        elif key[0] == "ethtool":
            name = f"ethtool-{key[1]}.txt"
        path = folder / name if name else None
        if path is None or not path.exists():
            raise CommandError(argv, 127)
        return path.read_text()

    return run, calls


def test_collectors_feed_the_same_parsers_as_capture_folders(tmp_path):
    folder = HW / "firecracker-vm"
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "meminfo").write_text((folder / "meminfo.txt").read_text())
    runner, calls = capture_runner(folder)
    collected = build(collect(runner, root=tmp_path))
    captured = from_capture_folder(folder)
    for key in ("serial", "serial_source", "cpu", "memory", "disks", "nics"):
        assert collected[key] == captured[key], key
    assert ["ethtool", "-i", "eth0"] in calls
    assert ["mokutil", "--sb-state"] not in calls  # no EFI: secure boot is off without asking
    assert collected["system"]["secure_boot"] is False


def test_missing_tools_never_stop_the_report(tmp_path):
    def nothing_installed(argv):
        raise CommandError(argv, 127)

    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "meminfo").write_text("MemTotal:       16384000 kB\n")
    body = build(collect(nothing_installed, root=tmp_path))
    assert body["memory"] == {"total_mb": 16000}
    assert "dmidecode: not installed" in body["errors"]
    assert body["serial"] is None  # nothing identifies the machine: the master will say so


def test_failing_tool_is_one_error_line():
    def broken(argv):
        raise CommandError(argv, 1, "line one\nCould not open device at /dev/ipmi0\n")

    captures = collect(broken, root=Path("/nonexistent"))
    assert "ipmitool mc info: exit code 1: Could not open device at /dev/ipmi0" in captures.errors
    assert any(e.startswith("/proc/meminfo: ") for e in captures.errors)


class FakeClock(Clock):
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []
        super().__init__(now=lambda: self.t, sleep=self._sleep)

    def _sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.t += seconds


def make_agent(replies, clock, interval=30.0, seed=1):
    posts = []

    def post(url, body):
        posts.append((clock.t, url, json.loads(body)))
        reply = replies.pop(0) if replies else 200
        if isinstance(reply, Exception):
            raise reply
        return reply, json.dumps({"status": "error" if reply != 200 else "success", "message": f"reply {reply}"})

    agent = Agent("http://m/api/v1/report", lambda: {"version": 1, "serial": "C1"}, post=post, clock=clock,
                  rng=random.Random(seed), interval=interval)  # fmt: skip
    return agent, posts


def test_schedule_one_report_per_interval_at_a_random_moment():
    clock = FakeClock()
    agent, posts = make_agent([], clock)
    agent.run_forever(windows=20)
    times = [t - 1000.0 for t, _, _ in posts]
    assert times[0] == 0  # one report at start
    assert len(times) == 21
    for window, t in enumerate(times[1:], start=1):
        assert 30 * window <= t < 30 * (window + 1)  # one in each following interval
    offsets = {round(t % 30, 3) for t in times[1:]}
    assert len(offsets) > 15  # spread, not at a fixed moment


def test_machines_booting_together_do_not_post_together():
    firsts = []
    for seed in range(50):
        clock = FakeClock()
        agent, posts = make_agent([], clock, seed=seed)
        agent.run_forever(windows=1)
        firsts.append(posts[1][0])
    assert max(firsts) - min(firsts) > 20


def test_retries_with_doubling_delays_then_success():
    clock = FakeClock()
    agent, posts = make_agent([OSError("refused"), 503, 502, 200], clock)
    assert agent.run_once() is True
    assert [t - 1000 for t, _, _ in posts] == [0, 1, 3, 7]
    assert clock.sleeps == [1, 2, 4]


def test_retries_are_bounded_by_count_and_interval():
    clock = FakeClock()
    agent, posts = make_agent([503] * 10, clock, interval=300)
    assert agent.run_once() is False
    assert len(posts) == 5  # the first try and 4 retries
    clock = FakeClock()
    agent, posts = make_agent([503] * 10, clock, interval=5)
    assert agent.run_once() is False
    assert [t - 1000 for t, _, _ in posts] == [0, 1, 3]  # the next retry would end after the interval


def test_a_refused_report_is_not_retried():
    clock = FakeClock()
    agent, posts = make_agent([400], clock)
    assert agent.run_once() is False
    assert len(posts) == 1


def test_a_slow_collection_still_keeps_the_windows():
    clock = FakeClock()
    agent, posts = make_agent([], clock)

    def slow_report():
        clock.t += 45  # longer than the interval
        return {"version": 1, "serial": "C1"}

    agent.make_report = slow_report
    agent.run_forever(windows=3)
    assert len(posts) == 4


@pytest.mark.parametrize(
    ("option", "url"),
    [
        ("10.0.0.2", "http://10.0.0.2/api/v1/report"),
        ("10.0.0.2:8080", "http://10.0.0.2:8080/api/v1/report"),
        ("https://oci.example.com/", "https://oci.example.com/api/v1/report"),
        ("http://x/api/v1/report", "http://x/api/v1/report"),
    ],
)
def test_server_url(option, url):
    assert server_url(option) == url


def test_server_url_from_the_live_image_file(tmp_path):
    (tmp_path / "pxe-server-ip").write_text("192.168.100.2\n")
    assert server_url(None, tmp_path / "pxe-server-ip") == "http://192.168.100.2/api/v1/report"
    with pytest.raises(AgentError, match="give --server"):
        server_url(None, tmp_path / "missing")


HOLD_LOCK = """
import sys, time
sys.path.insert(0, {lib!r})
from pathlib import Path
from oci.agent.daemon import single_instance
with single_instance(Path({lock!r})):
    print("held", flush=True)
    time.sleep(30)
"""


def test_two_agents_never_run_at_once(tmp_path):
    lock = tmp_path / "agent.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK.format(lib=str(REPO / "lib"), lock=str(lock))], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(AgentError, match="another oci-discover is running"), single_instance(lock):
            pass
        code = daemon.main(["--once", "--server", "127.0.0.1:9", "--lock", str(lock)], clock=FakeClock())
        assert code == 1
    finally:
        holder.kill()
        holder.wait()
    with single_instance(lock):  # released with its holder
        pass
