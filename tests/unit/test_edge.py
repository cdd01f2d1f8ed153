"""The one error edge (``oci.cli.edge``): what every entry point prints and returns for each kind of failure."""

from __future__ import annotations

import argparse

import pytest

from oci.cli.edge import Parser, edge
from oci.errors import Conflict, OciError


def entry(exc: BaseException | None):
    @edge("oci-demo")
    def main(argv: list[str] | None = None) -> int:
        if exc is not None:
            raise exc
        return 0

    return main


def test_an_oci_error_is_one_line_with_its_hint_and_exit_code(capsys):
    assert entry(Conflict("network n1 is full", hint="add a range"))([]) == 1
    assert capsys.readouterr().err == "oci-demo: error: network n1 is full (add a range)\n"

    class Custom(OciError):
        exit_code = 4

    assert entry(Custom("no hint"))([]) == 4
    assert capsys.readouterr().err == "oci-demo: error: no hint\n"


def test_an_unexpected_exception_is_one_line_unless_debug(capsys):
    assert entry(KeyError("x"))([]) == 1
    assert capsys.readouterr().err == "oci-demo: internal error: KeyError: 'x' (run with --debug for the traceback)\n"
    assert entry(KeyError("x"))(["--debug"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "KeyError: 'x'" in err and "internal error" not in err


def test_debug_shows_the_traceback_then_the_line(capsys):
    assert entry(OciError("bad"))(["list", "--debug"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and err.endswith("oci-demo: error: bad\n")


def test_an_os_error_gives_the_systems_words_and_the_file(capsys):
    assert entry(PermissionError(13, "Permission denied", "/var/lib/oci/x"))([]) == 1
    assert capsys.readouterr().err == "oci-demo: error: Permission denied: /var/lib/oci/x\n"


def test_interrupted_is_130_and_a_broken_pipe_is_not_an_error(capsys):
    assert entry(KeyboardInterrupt())([]) == 130
    assert capsys.readouterr().err == "oci-demo: interrupted\n"
    assert entry(BrokenPipeError())([]) == 0


def test_system_exit_passes_through():
    with pytest.raises(SystemExit) as raised:
        entry(SystemExit(2))([])
    assert raised.value.code == 2


def test_data_in_a_message_cannot_drive_the_terminal(capsys, monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert entry(OciError("unknown machine 'a\x1b[2Jb'"))([]) == 1
    assert "\x1b" not in capsys.readouterr().err


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="oci-demo")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for name in ("machine-list", "machine-show", "cluster-list"):
        sub.add_parser(name)
    return top


def test_a_mistyped_command_gets_a_suggestion_in_one_line(capsys):
    with pytest.raises(SystemExit) as raised:
        parser().parse_args(["machine-lsit"])
    assert raised.value.code == 2
    assert capsys.readouterr().err == "oci-demo: error: unknown command 'machine-lsit' (did you mean machine-list?)\n"


def test_an_unknown_command_with_nothing_close_points_to_help(capsys):
    with pytest.raises(SystemExit) as raised:
        parser().parse_args(["zzz"])
    assert raised.value.code == 2
    assert capsys.readouterr().err == "oci-demo: error: unknown command 'zzz' (see oci-demo --help)\n"


def test_other_usage_errors_stay_one_line(capsys):
    with pytest.raises(SystemExit) as raised:
        parser().parse_args([])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("oci-demo: error: the following arguments are required: COMMAND")
