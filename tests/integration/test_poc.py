"""make poc's job runs end to end: server, a dozen reports, the README demo, the final listing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO


@pytest.mark.slow  # it starts the Puppet server, a JVM (minutes on a loaded machine; the timeout is a guard)
def test_poc_runs_the_demo():
    done = subprocess.run([sys.executable, str(REPO / "bin" / "oci-poc")], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert out.count("HTTP 200 success") == 12
    assert "CC enrolled as swift01-swiftstore-6.example.com" in out
    assert "cluster swift01: no problem found" in out
    listing = out[out.rindex("# ocicli machine-list -n") :]
    assert "swift01-controller-1.example.com" in listing
    assert "192.168.101.2@dc1-net1" in listing
    assert "eno1    nic   -   -    192.168.101.2/24  192.168.101.1  dc1-net1" in out  # C1's planned network
    assert "Traceback" not in done.stderr
    assert "the Puppet server answers on 127.0.0.1:" in out
