"""The README is true: its command blocks marked ``sh`` run in order, as a new user would type them, on a
scratch state directory and a free port (the only two substitutions), and every command succeeds."""

from __future__ import annotations

import os
import re
import signal
import subprocess

from conftest import REPO, free_port

BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_blocks() -> list[str]:
    return BLOCK.findall((REPO / "README.md").read_text())


def test_the_readme_shows_runnable_blocks():
    blocks = readme_blocks()
    assert len(blocks) >= 2
    assert "machine-add" in blocks[0] and "OCI_API_TOKEN" in blocks[1]


def test_the_readme_command_blocks_run_in_order(tmp_path):
    port = free_port()
    script = "\n".join(readme_blocks()).replace("/tmp/oci-state", str(tmp_path / "state")).replace(":8080", f":{port}")
    assert str(port) in script and "/tmp/oci-state" not in script
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCI_")}
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"  # Debian's tools, as on a new machine
    run = subprocess.Popen(["bash", "-euo", "pipefail", "-xc", script], cwd=REPO, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    try:
        output, _ = run.communicate(timeout=600)  # a guard only: it takes seconds
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        subprocess.run(["pkill", "-KILL", "-f", f"oci-api --listen 127.0.0.1:{port}"], check=False)
    assert run.returncode == 0, output[-4000:]
    # The last listing, through the API: this machine enrolled, named, and installing.
    last = [line for line in output.splitlines() if "swift01-controller-1.example.com" in line]
    assert last, output[-4000:]
    assert " installing " in last[-1] and " swift01 " in last[-1], last[-1]
