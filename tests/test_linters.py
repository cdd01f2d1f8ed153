"""Linters are tests: ruff (lint and format) and strict mypy over the library."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run make deps")
    return found


def run(*argv: str) -> None:
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_check():
    run(tool("ruff"), "check", "lib", "bin/ocicli", "tests", "bench")


def test_ruff_format():
    run(tool("ruff"), "format", "--check", "lib", "bin/ocicli", "tests", "bench")


def test_mypy_strict():
    run(tool("mypy"))


def test_shell_scripts_parse():
    for script in (REPO / "share").rglob("*.sh"):
        run("sh", "-n", str(script))
