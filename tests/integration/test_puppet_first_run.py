"""Puppet runs for real (docs/puppet-runs.md), against a real oci-api: a real Puppet run sends its report the
way the Puppet server's http processor does (Puppet's own Ruby code: its YAML and its basic auth), and the
first-run script of the install bundle runs real Puppet runs and reports their statuses.

The first-run script runs with a PATH whose ``puppet`` turns ``puppet agent --test`` into a real ``puppet
apply`` of the test's manifest (no Puppet server here), and whose ``systemctl`` records its arguments (no
systemd here); everything else it runs is real: curl, timeout, grep, the status route."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import post, report_body
from oci import templates
from oci.model import Enrolment, Machine, PuppetResult, PuppetStatus
from oci.puppet.report import REPORT_TOKEN
from oci.service import install
from oci.store import Store

FQDN = "cl1-controller-1.example.com"
TOKEN = "report-token-for-the-test"
GUARD = 900  # seconds: a guard for a few Puppet runs on a loaded machine, never a figure

pytestmark = pytest.mark.slow


def puppet() -> str:
    path = shutil.which("puppet")
    if path is None:
        pytest.fail("puppet is not installed: run make deps")
    return path


@pytest.fixture
def master(server):
    """oci-api with C1 enrolled as FQDN and the report token set up: (port, state)."""
    port, _, state = server
    assert post(port, "/api/v1/report", json.dumps(report_body("C1")).encode())[0] == 200
    store = Store(state, lock_timeout=10)
    with store.machine_lock(["C1"]):
        store.write_machine(replace(store.get(Machine, "C1"), enrolment=Enrolment("cl1", "controller", "dc1", FQDN)))
    store.write_blob(*REPORT_TOKEN, data=TOKEN.encode() + b"\n", mode=0o600)
    return port, store


def apply_argv(tmp_path: Path, manifest: str) -> list[str]:
    """``puppet apply`` of ``manifest`` as FQDN, with all of Puppet's folders under ``tmp_path``."""
    (tmp_path / "manifest.pp").write_text(manifest)
    base = tmp_path / "puppet"
    return [puppet(), "apply", "--certname", FQDN, "--confdir", f"{base}/conf", "--vardir", f"{base}/var", "--codedir", f"{base}/code",
            "--logdir", f"{base}/log", "--rundir", f"{base}/run", "--detailed-exitcodes", "--color", "false",
            str(tmp_path / "manifest.pp")]  # fmt: skip


def test_a_real_runs_report_reaches_the_machine_through_the_http_processor(master, tmp_path):
    port, store = master
    target = tmp_path / "target"
    url = f"http://puppetserver:{TOKEN}@127.0.0.1:{port}/api/v1/puppet/report"
    manifest = f"file {{ '{target}': ensure => directory }}\nexec {{ 'oci-fails': command => '/bin/false' }}\n"
    done = subprocess.run([*apply_argv(tmp_path, manifest), "--reports", "http", "--reporturl", url],
                          capture_output=True, text=True, timeout=GUARD)  # fmt: skip
    assert done.returncode == 6, done.stderr  # changes and failures
    assert "Unable to submit report" not in done.stderr and "Report processor failed" not in done.stderr, done.stderr
    machine = store.get(Machine, "C1")
    run = machine.puppet_run
    assert run is not None and (run.result, run.changed, run.failed) == (PuppetResult.FAILURE, 1, 1)
    assert run.failed_resources == ("Exec[oci-fails]",) and "'/bin/false' returned 1 instead of one of [0]" in str(run.error)
    assert machine.puppet_status is PuppetStatus.FAILURE


def test_wrong_credentials_are_refused_by_the_master_and_said_by_puppet(master, tmp_path):
    port, store = master
    url = f"http://puppetserver:not-the-token@127.0.0.1:{port}/api/v1/puppet/report"
    done = subprocess.run([*apply_argv(tmp_path, "notify { 'hello': }\n"), "--reports", "http", "--reporturl", url],
                          capture_output=True, text=True, timeout=GUARD)  # fmt: skip
    assert "401" in done.stderr, done.stderr
    assert store.get(Machine, "C1").puppet_run is None


# ---------------------------------------------------------------------------------------------- the first run
def first_run(tmp_path: Path, port: int, manifest: str, attempts: int) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The bundle's first-run script, rendered with its paths under ``tmp_path``, run to its end."""
    bin_dir, logs = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    logs.mkdir()
    (tmp_path / "system-serial").write_text("C1\n")
    (tmp_path / "marker").write_text("")
    wrapper = bin_dir / "puppet"
    wrapper.write_text('#!/bin/sh\n[ "$1 $2" = "agent --test" ] || exit 64\nexec ' + " ".join(apply_argv(tmp_path, manifest)) + "\n")
    systemctl = bin_dir / "systemctl"
    systemctl.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "systemctl.calls"}\n')
    for tool in (wrapper, systemctl):
        tool.chmod(0o755)
    paths = install.PuppetRunPaths(
        str(tmp_path / "marker"), str(tmp_path / "system-serial"), "/etc/ssl/certs/ca-certificates.crt", str(logs)
    )
    url = f"http://127.0.0.1:{port}/api/v1/status"
    script = tmp_path / "oci-puppet-first-run"
    script.write_text(install.puppet_run_script(url, attempts, 600, templates.load(None), pause=0, paths=paths))
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "LANG": "C.UTF-8"}
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=GUARD)
    assert not (tmp_path / "marker").exists()
    return done, logs


def statuses(store: Store) -> list[tuple[str, str | None]]:
    return [(h.status, h.detail) for h in store.get(Machine, "C1").history if h.status.startswith("puppet-")]


def test_the_first_run_reports_running_then_success_and_starts_puppets_service(master, tmp_path):
    port, store = master
    done, logs = first_run(tmp_path, port, f"file {{ '{tmp_path / 'configured'}': content => 'yes' }}\n", attempts=2)
    assert done.returncode == 0, done.stderr
    assert statuses(store) == [("puppet-running", None), ("puppet-success", None)]
    assert store.get(Machine, "C1").puppet_status is PuppetStatus.SUCCESS
    assert (tmp_path / "configured").read_text() == "yes"
    assert (tmp_path / "systemctl.calls").read_text() == "enable --now puppet\n"
    assert sorted(p.name for p in logs.iterdir()) == ["oci-puppet-run-1.log"]


def test_a_failing_first_run_is_tried_again_then_reported_with_its_error_line(master, tmp_path):
    port, store = master
    done, logs = first_run(tmp_path, port, "exec { 'oci-fails': command => '/bin/false' }\n", attempts=2)
    assert done.returncode == 1, done.stderr
    assert sorted(p.name for p in logs.iterdir()) == ["oci-puppet-run-1.log", "oci-puppet-run-2.log"]
    error = "/Stage[main]/Main/Exec[oci-fails]/returns: change from 'notrun' to ['0'] failed: '/bin/false' returned 1 instead of one of [0]"
    assert "'/bin/false' returned 1 instead of one of [0]" in (logs / "oci-puppet-run-2.log").read_text()
    found = statuses(store)
    assert [s for s, _ in found] == ["puppet-running", "puppet-failure"]
    assert found[1][1] in (f"puppet run failed: {error}", "puppet run failed: '/bin/false' returned 1 instead of one of [0]")
    assert store.get(Machine, "C1").puppet_status is PuppetStatus.FAILURE
    assert not (tmp_path / "systemctl.calls").exists()
