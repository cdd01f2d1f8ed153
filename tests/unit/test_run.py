"""The process chokepoint: argv lists, fixed locale, clear errors."""

from __future__ import annotations

import pytest

from oci.run import CommandError, run


def test_output_and_locale():
    done = run(["sh", "-c", 'echo "$LC_ALL"; echo err >&2'], timeout=10)
    assert (done.stdout, done.stderr) == ("C.UTF-8\n", "err\n")


def test_failure_shows_command_code_and_output():
    with pytest.raises(CommandError) as err:
        run(["sh", "-c", "echo boom; exit 3"], timeout=10)
    assert str(err.value) == "sh -c 'echo boom; exit 3' failed with exit code 3\n  boom"
    assert run(["sh", "-c", "exit 3"], timeout=10, accept=(0, 3)).returncode == 3


def test_missing_program_and_timeout():
    with pytest.raises(CommandError, match="not found"):
        run(["/nonexistent/tool"], timeout=10)
    with pytest.raises(CommandError, match="timed out"):
        run(["sleep", "5"], timeout=0.2)
