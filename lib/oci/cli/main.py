"""``ocicli``: the operator's command line, on the state directory (local mode) or through the HTTP API.

Command names and positional arguments are the reference's, so existing scripts and the talk's demo run
as typed. Every command takes ``--json`` and ``--csv`` (``-csv``, as OCI 42 spells it); errors are one line with
a hint, tracebacks only with ``--debug``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from oci import __version__
from oci import config as config_mod
from oci.cli import bmc, clusters, machines, networks, topology
from oci.cli.backend import Backend, HttpBackend, LocalBackend
from oci.cli.edge import Parser, edge
from oci.cli.output import emit
from oci.errors import OciError
from oci.store import Store

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_PROBLEMS = 0, 1, 2, 3

EPILOG = """\
exit codes:
  0  success
  1  error (the message says what and, usually, what to do)
  2  usage error (unknown command, missing or malformed argument)
  3  cluster-check found problems in the cluster

environment:
  OCI_API_URL    use the HTTP API at this URL instead of the local state directory (like --api-url)
  OCI_API_TOKEN  bearer token for the API (or --token-file)
  OCI_CA_FILE    CA certificate to verify an https API (like --ca-file)
  OCI_STATE_DIR  state directory in local mode (default /var/lib/oci, or [state] dir of the configuration)
  OCI_CONFIG     configuration file (default /etc/openstack-cluster-installer/openstack-cluster-installer.conf)
"""

FAMILIES = (machines, bmc, clusters, networks, topology)


def build_parser() -> argparse.ArgumentParser:
    # Options valid both before and after the command: SUPPRESS keeps the subcommand's parser from
    # resetting what was given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON (stable keys) instead of a table")
    # OCI 42's spelling too: its scripts run ``ocicli -csv machine-list``.
    common.add_argument(
        "--csv", "-csv", action="store_true", default=argparse.SUPPRESS, help="print CSV (the table's headers) instead of a table"
    )
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    common.add_argument(
        "--api-url", default=argparse.SUPPRESS, metavar="URL", help="use the HTTP API at URL (default: $OCI_API_URL; unset: local mode)"
    )
    common.add_argument(
        "--token-file", type=Path, default=argparse.SUPPRESS, metavar="FILE", help="file holding the API token (default: $OCI_API_TOKEN)"
    )
    common.add_argument(
        "--ca-file", type=Path, default=argparse.SUPPRESS, metavar="FILE", help="CA certificate of an https API (default: $OCI_CA_FILE)"
    )
    parser = Parser(
        prog="ocicli",
        description="Manage OpenStack clusters, networks and machines of openstack-cluster-installer.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"ocicli {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for family in FAMILIES:
        family.register(sub, common)
    return parser


def backend_for(args: argparse.Namespace, environ: Mapping[str, str]) -> Backend:
    """The HTTP API when a URL is given (option or environment), else the local state directory."""
    url = getattr(args, "api_url", None) or environ.get("OCI_API_URL")
    if not url:
        cfg = config_mod.load(environ)
        return LocalBackend(Store.open(cfg))
    token_file = getattr(args, "token_file", None)
    if token_file is not None:
        try:
            token: str | None = token_file.read_text().strip()
        except OSError as exc:
            raise OciError(f"cannot read the token file {token_file}: {exc.strerror}") from None
    else:
        token = environ.get("OCI_API_TOKEN")
    ca_file = getattr(args, "ca_file", None) or (Path(environ["OCI_CA_FILE"]) if environ.get("OCI_CA_FILE") else None)
    return HttpBackend(url, token, ca_file)


@edge("ocicli")
def main(argv: Sequence[str] | None = None, store_factory: Callable[[], Store] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "json", False) and getattr(args, "csv", False):
        parser.error("--json and --csv: choose one")
    backend = LocalBackend(store_factory()) if store_factory is not None else backend_for(args, os.environ)
    result = args.handler(args, backend)
    emit(result, getattr(args, "json", False), as_csv=getattr(args, "csv", False))
    return int(getattr(result, "exit_code", EXIT_OK) or EXIT_OK)


if __name__ == "__main__":
    sys.exit(main())
