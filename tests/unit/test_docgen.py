"""Generated files are kept in sync: the reference page, man page and bash completion (from the parser), the API
reference (from the operations table), the configuration reference and the shipped example (from config.KEYS)."""

from __future__ import annotations

import os
import subprocess

from conftest import REPO
from oci.cli import docgen


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
