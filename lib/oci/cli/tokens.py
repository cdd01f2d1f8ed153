"""``oci-token``: create, list and revoke API tokens, on the master (it works on the state directory)."""

from __future__ import annotations

from collections.abc import Sequence

from oci import config as config_mod
from oci import operations
from oci.cli.edge import Parser, edge
from oci.cli.output import Column, Message, Table, emit
from oci.store import Store


@edge("oci-token")
def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(
        prog="oci-token",
        description="Manage the bearer tokens of the OCI API (ocicli --api-url ... reads one from OCI_API_TOKEN or --token-file).",
        epilog="Exit codes: 0 success, 1 error, 2 usage.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    create = sub.add_parser("create", help="create a token and print it (it is shown only this once)")
    create.add_argument("name")
    sub.add_parser("list", help="list tokens (names and creation times, never the tokens)")
    revoke = sub.add_parser("revoke", help="revoke a token: requests carrying it are refused from now on")
    revoke.add_argument("name")
    args = parser.parse_args(argv)
    cfg = config_mod.load()
    store = Store.open(cfg)
    # Through the operations table (local-only operations), so every change reaches the audit log.
    if args.command == "create":
        created = operations.execute(store, "token_create", {"name": args.name})
        result: Message | Table = Message(created["token"], data=created)
    elif args.command == "list":
        result = Table(operations.execute(store, "token_list", {}), [Column("name", "name"), Column("created", "created")])
    else:
        result = Message(f"token {args.name} revoked", data=operations.execute(store, "token_revoke", {"name": args.name}))
    emit(result, args.json)
    return 0
