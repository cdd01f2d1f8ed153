"""Generated files are kept in sync: the reference page, man page and bash completion (from the parser), the API
reference (from the operations table), the configuration reference and the shipped example (from config.KEYS)."""

from __future__ import annotations

import os
import subprocess
from ipaddress import IPv4Address

from conftest import NOW, REPO, report_body
from oci.cli import docgen
from oci.report import v1
from oci.service import machines, reports
from oci.store import Store


def test_generated_files_are_up_to_date():
    for path, text in docgen.outputs(REPO).items():
        if os.environ.get("OCI_UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        assert path.read_text() == text, f"{path.relative_to(REPO)} is stale: run python3 -m oci.cli.docgen ."


def test_man_page_renders_without_warnings():
    done = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(REPO / "docs" / "man" / "ocicli.1")], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stderr == ""
    done = subprocess.run(["man", "-l", str(REPO / "docs" / "man" / "ocicli.1")], capture_output=True, text=True,
                          env={**os.environ, "MANWIDTH": "100", "MANPAGER": "cat"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "machine-add" in done.stdout


def test_completion_offers_what_exists_for_each_positional_argument(tmp_path):
    """Serials and hostnames, clusters, roles, locations, networks: asked of ocicli as the user would, each where the
    command takes it, past options and their values."""
    state = tmp_path / "state"
    for argv in (("swift-region-create", "r1"), ("location-create", "loc1", "r1"), ("cluster-create", "cl1", "example.com"),
                 ("network-create", "mgmt", "192.168.101.0", "24", "loc1", "no"),
                 ("network-add", "mgmt", "cl1", "all", "eth0")):  # fmt: skip
        subprocess.run(
            [str(REPO / "bin" / "ocicli"), *argv], env={**os.environ, "OCI_STATE_DIR": str(state)}, check=True, capture_output=True
        )
    store = Store(state)
    reports.record(store, v1.parse(report_body("C1")), IPv4Address("192.168.100.20"), NOW)
    machines.add(store, "C1", "cl1", "controller", "loc1")
    reports.record(store, v1.parse(report_body("C2")), IPv4Address("192.168.100.21"), NOW)
    probe = f"""
export PATH={REPO / "bin"}:$PATH OCI_STATE_DIR={state}
source {REPO / "share" / "bash-completion" / "ocicli"}
complete_() {{ COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _ocicli; echo "${{COMPREPLY[*]}}"; }}
complete_ ocicli machine-show ''
complete_ ocicli machine-show cl1-
complete_ ocicli machine-add C2 ''
complete_ ocicli machine-add --fixed-ip 10.0.0.9 C2 cl1 ''
complete_ ocicli machine-add C2 cl1 controller ''
complete_ ocicli --api-url http://x network-add ''
complete_ ocicli cluster-show ''
"""
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and len(lines) == 7, done.stderr
    assert sorted(lines[0].split()) == ["C1", "C2", "cl1-controller-1.example.com"]
    assert lines[1].split() == ["cl1-controller-1.example.com"]
    assert lines[2].split() == ["cl1"]  # machine-add SERIAL CLUSTER ROLE LOCATION
    assert "controller" in lines[3].split() and "compute" in lines[3].split()  # past --fixed-ip and its value
    assert lines[4].split() == ["loc1"]
    assert lines[5].split() == ["mgmt"]  # past a global option's value
    assert lines[6].split() == ["cl1"]


def test_completion_offers_commands_and_options():
    script = REPO / "share" / "bash-completion" / "ocicli"
    probe = f"""
source {script}
COMP_WORDS=(ocicli machine-); COMP_CWORD=1; _ocicli; echo "${{COMPREPLY[@]}}"
COMP_WORDS=(ocicli machine-add --); COMP_CWORD=2; _ocicli; echo "${{COMPREPLY[@]}}"
"""
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    first, second = done.stdout.splitlines()
    assert "machine-add" in first.split() and "machine-list" in first.split()
    assert "--fixed-ip" in second.split() and "--json" in second.split()
