"""``oci-config``: read or change one setting of the configuration file (the package's maintainer scripts use it)."""

from __future__ import annotations

from collections.abc import Sequence

from oci import config
from oci.cli.edge import Parser, edge


@edge("oci-config")
def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(
        prog="oci-config",
        usage="%(prog)s get SECTION KEY\n       %(prog)s set SECTION KEY VALUE",
        description="Print or set one setting of the OCI configuration file: the file OCI_CONFIG names, or "
        "/etc/openstack-cluster-installer/openstack-cluster-installer.conf (docs/configuration.md lists the keys).",
        epilog="Exit codes: 0 success, 1 error (nothing changed), 2 usage.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    get = sub.add_parser("get", prog="oci-config get", help="print the value OCI uses: the file's, else the default")
    set_ = sub.add_parser("set", prog="oci-config set", help="check VALUE by OCI's rules and write it, keeping comments and other keys")
    for command in (get, set_):
        command.add_argument("section", metavar="SECTION", help="section of the file, without brackets (e.g. api)")
        command.add_argument("key", metavar="KEY", help="key in the section (e.g. listen)")
    set_.add_argument("value", metavar="VALUE", help="the new value, as it would be written in the file")
    args = parser.parse_args(argv)
    if args.command == "get":
        print(config.effective_text(args.section, args.key))
    else:
        config.set_text(args.section, args.key, args.value)
    return 0
