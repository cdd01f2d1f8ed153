"""Temp files that crashed writers left in the state are removed at start-up; a live writer's are kept."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from api_process import running, server_log
from oci.store import files

HOUR = 3600


def dead_pid():
    child = subprocess.Popen(["true"])
    child.wait()  # reaped: no process has this pid now (reuse within the test is vanishingly unlikely)
    return child.pid


def leave(path, age=0, content=b"half-written"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    when = time.time() - age
    os.utime(path, (when, when))
    return path


@pytest.fixture
def crashed_state(tmp_path):
    """A state directory as crashes leave it: temp files and a dry-run scratch copy, stale and live."""
    root = tmp_path / "state"
    gone, alive = dead_pid(), os.getpid()
    stale = [
        leave(root / "machines" / f".C1.yaml.{gone}.abcd1234.tmp"),  # its writer is gone, however fresh
        leave(root / "networks" / f".net1.yaml.{alive}.abcd1234.tmp", age=2 * HOUR),  # pid reused since: too old to be live
        leave(root / "seen" / ".C2.yaml.k3j4h5g6.tmp", age=2 * HOUR),  # an older release's name, without a pid
        leave(root / "enc" / "cluster-cl1" / f".h1.yaml.{gone}.zz__zz99.tmp"),
    ]
    scratch = root / f".dry-run-{gone}-a1b2c3d4"
    leave(scratch / "machines" / "C1.yaml")
    stale.append(scratch)
    kept = [
        leave(root / "machines" / f".C3.yaml.{alive}.abcd1234.tmp"),  # a live writer's, being filled now
        leave(root / "seen" / ".C4.yaml.k3j4h5g6.tmp", age=60),  # no pid, a minute old: may be live
        leave(root / "machines" / "C1.yaml", age=2 * HOUR, content=b"serial: C1\n"),  # state, not temp
        leave(root / ".hidden.tmp.keep", age=2 * HOUR),  # not a temp name
        leave(root / f".dry-run-{alive}-a1b2c3d4" / "machines" / "C1.yaml"),  # a running dry run's copy
    ]
    return root, stale, kept


def test_only_temp_files_no_live_writer_can_own_are_removed(crashed_state):
    root, stale, kept = crashed_state
    removed = files.remove_stale_temp_files(root)
    assert sorted(removed) == sorted(stale)
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    assert files.remove_stale_temp_files(root) == []


def test_atomic_write_names_its_temp_file_with_its_pid(tmp_path):
    target = tmp_path / "machines" / "C1.yaml"
    assert files.temp_prefix(target.name) == f".C1.yaml.{os.getpid()}."
    files.atomic_write(target, b"x")
    assert [p.name for p in target.parent.iterdir()] == ["C1.yaml"]


def test_oci_api_removes_stale_temp_files_at_start(crashed_state, tmp_path):
    root, stale, kept = crashed_state
    assert root == tmp_path / "state"  # the state directory running() configures
    with running(tmp_path):
        pass
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    assert f"removed {len(stale)} stale temporary file(s)" in server_log(tmp_path)
