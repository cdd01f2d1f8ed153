"""From oci-install's runner to machine-show: the node's real reporter posts the status protocol to the real
API (in process), whose intake keeps the install record. The steps are stand-ins (the real ones are proven on
a loop device in tests/integration/test_install_loop.py); what is tested is what the master learns."""

from __future__ import annotations

import itertools
from typing import Any

from oci.install.runner import HttpReporter, Step, run_steps
from oci.model import Machine, MachineStatus
from oci.run import CommandError
from oci.service import machines
from wsgi_client import Client

URL = "http://master/api/v1/status"


def reporter_for(site: Any, serial: str) -> HttpReporter:
    """The node's reporter, its posts answered by the API from the machine's live address."""
    client = Client(site)

    def post(url: str, body: bytes) -> tuple[int, str]:
        assert url == URL
        status, _, payload = client.request("POST", "/api/v1/status", body, headers={"Content-Type": "application/json"})
        return status, payload.decode()

    return HttpReporter(URL, serial, post, sleep=lambda seconds: None)


def clock() -> Any:
    ticks = itertools.count(0.0, 1.5)  # every step takes 1.5 s of this clock
    return lambda: next(ticks)


def test_a_finished_install_is_recorded_step_by_step(site):
    reporter = reporter_for(site, "C1")
    steps = [Step("check-disks", lambda c: None), Step("partition", lambda c: None), Step("debootstrap", lambda c: None)]
    assert run_steps(steps, None, reporter, clock=clock()) is None
    reporter.finished()
    machine = site.get(Machine, "C1")
    assert machine.status is MachineStatus.FIRSTBOOT
    assert machine.install is not None and machine.install.finished is not None and machine.install.failed_step is None
    assert [(s.name, s.seconds) for s in machine.install.steps] == [("check-disks", 1.5), ("partition", 1.5), ("debootstrap", 1.5)]
    shown = machines.show(site, "C1")["install"]
    assert (shown["state"], [s["name"] for s in shown["steps"]]) == ("done", ["check-disks", "partition", "debootstrap"])


def test_a_failed_step_puts_the_machine_back_to_live_with_the_step_and_its_line(site):
    reporter = reporter_for(site, "C1")
    torn_down: list[str] = []

    def sfdisk_fails(context: object) -> None:
        raise CommandError(["sfdisk", "/dev/vda"], 1, "Checking that no-one is using this disk right now ...\nsfdisk: /dev/vda: busy\n")

    steps = [
        Step("check-disks", lambda c: None, lambda c: torn_down.append("check-disks")),
        Step("partition", sfdisk_fails, lambda c: torn_down.append("partition")),
        Step("filesystems", lambda c: None, lambda c: torn_down.append("filesystems")),
    ]
    failure = run_steps(steps, None, reporter, clock=clock())
    assert failure is not None and failure.step == "partition"
    assert torn_down == ["partition", "check-disks"]
    machine = site.get(Machine, "C1")
    assert machine.status is MachineStatus.LIVE
    assert machine.install is not None and (machine.install.failed_step, machine.install.error) == ("partition", failure.error)
    assert failure.error == "sfdisk failed with exit code 1: sfdisk: /dev/vda: busy"
    assert machine.history[-1].status == "live"
    assert machine.history[-1].detail == "install failed at partition: sfdisk failed with exit code 1: sfdisk: /dev/vda: busy"
    shown = machines.show(site, "C1")["install"]
    assert (shown["state"], shown["failed_step"]) == ("failed", "partition")
