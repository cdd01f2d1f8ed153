"""oci-install's node side without disks: the runner (order, timing, reports, teardowns in reverse after a
failure), the status reporter, the step list, and the files the node renders (golden files in
tests/data/golden/install-node; regenerate with ``OCI_UPDATE_GOLDEN=1`` and review the diff).

The steps themselves run against real disks in tests/integration/test_install_loop.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import REPO, Recorder
from oci import templates
from oci.errors import InvalidInput
from oci.install import bundle, main, render, steps
from oci.install.layout import DiskLayout
from oci.install.plan import BootMode, InstallPlan
from oci.install.runner import MAX_ERROR, Failure, HttpReporter, Step, error_line, run_steps
from oci.run import CommandError

GOLDEN = REPO / "tests" / "data" / "golden" / "install-node"


ONE_DISK = DiskLayout(("sda",))


def make_plan(layout: DiskLayout = ONE_DISK, **fields: object) -> InstallPlan:
    values: dict[str, object] = {
        "serial": "C1",
        "hostname": "cl1-compute-1.example.com",
        "cluster": "cl1",
        "role": "compute",
        "boot": BootMode.BIOS,
        "layout": layout,
        "release": "bookworm",
        "mirror": "http://10.251.0.1:3142/deb.debian.org/debian",
        "security_mirror": "http://10.251.0.1:3142/security.debian.org/debian-security",
        "packages": ("linux-image-amd64", "grub-pc"),
        "status_url": "http://10.251.0.1:8080/api/v1/status",
    }
    values.update(fields)
    return InstallPlan(**values)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def recorded_steps(names: list[str], journal: list[str], clock: Clock, fail: str | None = None) -> list[Step[None]]:
    def action(name: str):
        def act(context: None) -> None:
            journal.append(f"run {name}")
            clock.now += 1.25
            if name == fail:
                raise CommandError(["mount", "/dev/sda3", "/mnt"], 32, "mount: wrong fs type\nmore output")

        return act

    def teardown(name: str):
        def undo(context: None) -> None:
            journal.append(f"undo {name}")
            if name == "b":
                raise RuntimeError("teardown b broke")

        return undo

    return [Step(n, action(n), teardown(n)) for n in names]


def test_steps_run_in_order_timed_and_reported():
    journal: list[str] = []
    clock, reporter = Clock(), Recorder()
    assert run_steps(recorded_steps(["a", "b", "c"], journal, clock), None, reporter, clock) is None
    assert journal == ["run a", "run b", "run c"]
    assert reporter.calls == [("started", "a"), ("ended", "a", 1.25), ("started", "b"), ("ended", "b", 1.25),
                              ("started", "c"), ("ended", "c", 1.25)]  # fmt: skip


def test_a_failure_tears_down_the_started_steps_in_reverse_then_reports_the_step_and_its_line():
    journal: list[str] = []
    clock, reporter = Clock(), Recorder()
    failure = run_steps(recorded_steps(["a", "b", "c", "d"], journal, clock, fail="c"), None, reporter, clock)
    line = "mount failed with exit code 32: more output"
    assert failure == Failure("c", line)
    # the failed step's own teardown runs too (it may have done half its work); b's broken teardown stops nothing
    assert journal == ["run a", "run b", "run c", "undo c", "undo b", "undo a"]
    assert reporter.calls[-2:] == [("started", "c"), ("failed", "c", line)]
    assert ("started", "d") not in reporter.calls


def test_the_error_line_is_one_line_bounded_with_the_hint():
    assert error_line(InvalidInput("disk sda is mounted", hint="unmount it")) == "disk sda is mounted (unmount it)"
    long = error_line(ValueError("x" * 1000 + "\nsecond line"))
    assert len(long) == MAX_ERROR and long.endswith("...") and "\n" not in long
    assert error_line(ValueError()) == "ValueError"
    apt = CommandError(["apt-get", "install", "-y", "puppet"], 100, "Reading package lists...\nE: Unable to locate package puppet\n")
    assert error_line(apt) == "apt-get failed with exit code 100: E: Unable to locate package puppet"
    assert error_line(CommandError(["debootstrap", "bookworm"], None)) == "debootstrap timed out"


def test_the_http_reporter_sends_the_protocol_and_retries_only_what_may_pass_later():
    sent: list[dict[str, object]] = []
    answers = [OSError("connection refused"), (503, "busy"), (200, "{}")]

    def post(url: str, body: bytes) -> tuple[int, str]:
        assert url == "http://master/api/v1/status"
        sent.append(json.loads(body))
        answer = answers.pop(0) if answers else (200, "{}")
        if isinstance(answer, OSError):
            raise answer
        return answer

    pauses: list[float] = []
    reporter = HttpReporter("http://master/api/v1/status", "C1", post, sleep=pauses.append)
    reporter.started("partition")
    assert len(sent) == 3 and pauses == [1.0, 2.0]
    reporter.ended("partition", 1.25)
    reporter.failed("mount", "mount failed")
    reporter.finished()
    assert sent[3:] == [
        {"version": 1, "serial": "C1", "status": "installing", "step": "partition", "seconds": 1.25},
        {"version": 1, "serial": "C1", "status": "live", "step": "mount", "error": "mount failed"},
        {"version": 1, "serial": "C1", "status": "firstboot"},
    ]
    sent.clear()
    answers[:] = [(409, "refused")] + [OSError("down")] * 5
    reporter.started("wipe")  # refused: not sent again
    reporter.started("mount")  # never delivered: given up after the attempts, without raising
    assert [b["step"] for b in sent] == ["wipe", "mount", "mount", "mount"]


def test_the_step_list_is_the_protocols():
    names = ["check-disks", "wipe", "partition", "filesystems", "mount", "debootstrap", "chroot-mounts",
             "packages", "files", "bootloader", "units", "unmount"]  # fmt: skip
    assert [s.name for s in steps.steps(make_plan())] == names
    raid = [s.name for s in steps.steps(make_plan(DiskLayout(("sda", "sdb"), "1")))]
    assert raid == [*names[:3], "raid", *names[3:]]


GOLDEN_CASES = {
    "sfdisk-gpt": lambda: render.sfdisk_script(DiskLayout(("sda",))),
    "sfdisk-gpt-raid": lambda: render.sfdisk_script(DiskLayout(("nvme0n1", "nvme1n1"), "1")),
    "fstab": lambda: render.fstab("0b7e1f9c-2a7e-4f1a-9d43-5a1c7b1e3f10", "4A1B-9C2D"),
    "grub-oci.cfg": lambda: render.grub_default(None),
    "grub-oci-serial.cfg": lambda: render.grub_default("ttyS1"),
    "mdadm.conf": lambda: render.mdadm_conf("ARRAY /dev/md0 metadata=1.2 name=any:root UUID=8d4f0a3e:6b2c9e71:1f0d5a44:c3b7e902\n"),
    "sources.list": lambda: render.apt_sources(make_plan()),
    "policy-rc.d": lambda: render.policy_rc_d(),
    "dpkg-unsafe-io": lambda: render.dpkg_unsafe_io(),
    "hostname": lambda: render.hostname("cl1-compute-1.example.com"),
}


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_node_rendered_files_match_their_golden_files(case):
    text = GOLDEN_CASES[case]()
    golden = GOLDEN / case
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: render.grub_default("/dev/ttyS1"), "serial console '/dev/ttyS1' is not ttyS0..ttyS9"),
        (lambda: render.mdadm_conf("ARRAY /dev/md0\nrm -rf /\n"), "unexpected line from mdadm --detail --scan: 'rm -rf /'"),
        (lambda: steps.package_names(["puppet", "--allow-unauthenticated"]), "'--allow-unauthenticated' is not a Debian package name"),
        (lambda: steps.package_names(["../x.deb"]), "'../x.deb' is not a Debian package name"),
    ],
)
def test_bad_values_are_refused_in_one_line(call, message):
    with pytest.raises(InvalidInput) as err:
        call()
    assert err.value.message == message


def test_files_keep_their_modes_on_the_target(tmp_path):
    from oci.netconf.target import write_files

    write_files(tmp_path, {"etc/ssl/private/node.key": b"k", "etc/hosts": b"h"}, modes={"etc/ssl/private/node.key": 0o600})
    assert (tmp_path / "etc/ssl/private/node.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "etc/hosts").stat().st_mode & 0o777 == 0o644


def test_oci_install_reads_the_bundle_once_and_deletes_it(tmp_path, capsys):
    path = tmp_path / "bundle.tar"
    path.write_bytes(bundle.pack(make_plan(), {"etc/hostname": bundle.BundleFile(b"x\n")}))
    assert main.read_bundle(path).startswith(b"plan.json")
    assert not path.exists()
    assert main.main(["--bundle", str(path), "--log", str(tmp_path / "install.log")]) == 1
    assert (
        capsys.readouterr().err
        == f"oci-install: error: cannot read the bundle {path}: No such file or directory (machine-install-os sends it)\n"
    )


def test_a_bad_bundle_changes_nothing(tmp_path, capsys):
    path = tmp_path / "bundle.tar"
    path.write_bytes(b"not a tar")
    recorder = Recorder()
    with pytest.raises(InvalidInput):
        main.install(main.read_bundle(path), reporter=recorder, mount_base=tmp_path / "mnt")
    assert recorder.calls == [] and not (tmp_path / "mnt").exists()


def test_no_step_runs_when_the_disk_is_not_there(tmp_path):
    recorder = Recorder()
    data = bundle.pack(make_plan(DiskLayout(("oci-no-such-disk",)), reboot=False), {})
    assert main.install(data, reporter=recorder, mount_base=tmp_path) == 1
    assert recorder.calls == [
        ("started", "check-disks"),
        ("failed", "check-disks", "disk /dev/oci-no-such-disk does not exist on this machine"),
    ]
    assert list(tmp_path.iterdir()) == []  # the mount point went too


def disk_context(tmp_path, disk: str, sectors: int) -> steps.Context:
    """A context over the real /dev and a /sys/class/block of our own (the size the kernel would say)."""
    (tmp_path / "sys" / disk).mkdir(parents=True)
    (tmp_path / "sys" / disk / "size").write_text(f"{sectors}\n")
    plan = make_plan(DiskLayout((disk,)))
    return steps.Context(plan, {}, tmp_path / "target", templates.shipped(), sys_block=tmp_path / "sys")


def the_root_disk() -> str:
    lines = Path("/proc/self/mounts").read_text().splitlines()
    source = next(line.split()[0] for line in lines if line.split()[1] == "/")
    return os.path.basename(os.path.realpath(source))


@pytest.mark.parametrize(
    ("disk", "sectors", "message"),
    [
        ("null", 1 << 30, "/dev/null is not a block device"),
        ("ROOT", 1000, "disk /dev/ROOT holds 0 MiB, less than the 3585 MiB an install needs"),
        ("ROOT", 1 << 30, "/dev/ROOT is mounted or used as swap"),
    ],
)
def test_check_disks_refuses_what_cannot_be_installed_on(tmp_path, disk, sectors, message):
    if disk == "ROOT":
        disk = the_root_disk()
        if not os.path.exists(f"/dev/{disk}"):
            pytest.skip("the root file system is not on a /dev block device here")
        message = message.replace("ROOT", disk)
    with pytest.raises(steps.InstallError) as err:
        steps.check_disks(disk_context(tmp_path, disk, sectors))
    assert err.value.message == message
