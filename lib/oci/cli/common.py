"""Helpers shared by the command families."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

from oci import values
from oci.cli.edge import say
from oci.model.settings import Setting, Value


def command(
    sub: Any, common: argparse.ArgumentParser, name: str, handler: Callable[..., Any], help: str, **kwargs: Any
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help, parents=[common], **kwargs)
    parser.set_defaults(handler=handler)
    return parser


def seconds(text: str) -> float:
    """An option's positive number of seconds (``--timeout``, ``--interval``)."""
    value = values.number(text)
    if value is None or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def add_setting_options(parser: argparse.ArgumentParser, table: Mapping[str, Setting]) -> None:
    group = parser.add_argument_group("settings")
    for setting in table.values():
        flags = [setting.option]
        if "_" in setting.name:
            flags.append("--" + setting.name)  # the reference also accepts underscores
        flags += setting.aliases
        if setting.kind.value == "bool":
            metavar = "yes|no"
        elif setting.choices:
            metavar = "|".join(setting.choices)
        else:
            metavar = setting.kind.value.upper()
        default = "" if setting.default in ("", None) else f" (default: {setting.default})"
        kept = " [no effect in this release: docs/differences.md]" if setting.no_effect else ""
        group.add_argument(*flags, dest=f"setting_{setting.name}", metavar=metavar, default=None, help=setting.help + default + kept)
    parser.add_argument("--unset", action="append", default=[], metavar="NAME", help="return a setting to its default")


def setting_values(args: argparse.Namespace, table: Mapping[str, Setting]) -> tuple[dict[str, Value], list[str]]:
    """The settings given on the command line, typed. A setting kept only so OCI 42's scripts still run is
    accepted, with a note on stderr that it changes nothing (and why)."""
    values = {}
    for name, setting in table.items():
        text = getattr(args, f"setting_{name}")
        if text is not None:
            values[name] = setting.parse(text)
            if setting.no_effect:
                say(f"note: {setting.option} has no effect in this release: {setting.no_effect}")
    unset = [u.replace("-", "_") for u in args.unset]
    return values, unset


def dry_run(backend: Any, operation: str, params: dict[str, Any]) -> Any:
    """Ask what ``operation`` would change in the hosts' classifications, and say it."""
    from oci.cli.output import Message

    found = backend.call("dry_run", operation=operation, params={k: v for k, v in params.items() if v is not None})
    changes = found["changes"]
    if not changes:
        return Message("dry run: no host's classification would change (nothing was changed)", data=found)
    text = "".join(changes.values()) + f"dry run: {len(changes)} host(s) would change (nothing was changed)"
    return Message(text, data=found)
