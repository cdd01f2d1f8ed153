"""The one error edge of every command: what an exception becomes on stderr and as an exit code.

The library only raises (``oci.errors``); each entry point's ``main()`` is wrapped by ``edge(prog)``:

* ``OciError`` → ``prog: error: message (hint)`` and the error's ``exit_code``;
* ``OSError`` (permissions, a full disk) → the system's words and the file, exit 1;
* ``KeyboardInterrupt`` → ``prog: interrupted``, exit 130;
* anything else is a bug → one line ``prog: internal error: ... (run with --debug for the traceback)``, exit 1;
* with ``--debug`` on the command line, the traceback comes first.

``Parser`` is the ``argparse`` parser of the commands: a usage error is one line (exit 2), and an unknown
command says which one was meant instead of listing every command.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, ParamSpec

from oci.cli.output import terminal_safe
from oci.errors import OciError

EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130

P = ParamSpec("P")


def say(line: str) -> None:
    """An error line on stderr: it may quote data (a name, a server's message), escaped on a terminal."""
    print(terminal_safe(line) if sys.stderr.isatty() else line, file=sys.stderr)


def message(prog: str, exc: BaseException) -> tuple[str, int]:
    """The line printed for ``exc`` and the exit code: the policy of the module docstring."""
    if isinstance(exc, OciError):
        hint = f" ({exc.hint})" if exc.hint else ""
        return f"{prog}: error: {exc.message}{hint}", exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return f"{prog}: interrupted", EXIT_INTERRUPTED
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{prog}: error: {exc.strerror}{where}", EXIT_ERROR
    return f"{prog}: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", EXIT_ERROR


def _debug_requested(argv: Sequence[str] | None) -> bool:
    # Read before parsing: an error while parsing or building the backend must honour it too.
    return "--debug" in (sys.argv[1:] if argv is None else argv)


def edge(prog: str) -> Callable[[Callable[P, int]], Callable[P, int]]:
    """Wrap an entry point's ``main(argv=None, ...)`` in the policy of the module docstring."""

    def wrap(main: Callable[P, int]) -> Callable[P, int]:
        @functools.wraps(main)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> int:
            argv: Any = args[0] if args else kwargs.get("argv")
            try:
                return main(*args, **kwargs)
            except BrokenPipeError:
                return 0  # output piped into head: what was wanted was read
            except (Exception, KeyboardInterrupt) as exc:  # SystemExit (argparse, --help) passes through
                if _debug_requested(argv) and not isinstance(exc, KeyboardInterrupt):
                    traceback.print_exc()
                    if not isinstance(exc, (OciError, OSError)):
                        return EXIT_ERROR
                line, code = message(prog, exc)
                say(line)
                return code

        return wrapped

    return wrap


class Parser(argparse.ArgumentParser):
    """Usage errors in one line with the way to more help (exit 2); a mistyped command gets a suggestion."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        if isinstance(action, argparse._SubParsersAction) and action.choices is not None and value not in action.choices:
            close = difflib.get_close_matches(str(value), [str(c) for c in action.choices], n=1)
            hint = f"did you mean {close[0]}?" if close else f"see {self.prog} --help"
            self.exit(EXIT_USAGE, f"{self.prog}: error: unknown command {value!r} ({hint})\n")
        super()._check_value(action, value)
