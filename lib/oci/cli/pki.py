"""``oci-pki``: OCI's certificate authority, on the master (it works on the state directory)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oci import config as config_mod
from oci import operations
from oci.cli.edge import Parser, edge
from oci.cli.output import Column, Message, Record, Table, emit
from oci.errors import OciError
from oci.pki.x509 import KEY_TYPES
from oci.store import Store

LIST_COLUMNS = [Column("name", "name"), Column("serial", "serial"), Column("not_after", "expires"), Column("days_left", "days left"),
                Column("revoked", "revoked"), Column("external", "external")]  # fmt: skip


@edge("oci-pki")
def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(
        prog="oci-pki",
        description="OCI's certificate authority: a root CA, the intermediate 'OCI CA', node and API certificates.",
        epilog="Exit codes: 0 success, 1 error, 2 usage. Files: <state>/pki (private keys mode 0600).",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    init = sub.add_parser("init", help="create the root and intermediate CAs (nothing happens if they exist)")
    init.add_argument("--ca-key-type", choices=KEY_TYPES, default=None, help="default: [pki] ca_key_type, ec-p384")
    issue = sub.add_parser("issue", help="issue a key and certificate for a host name (server and client use)")
    issue.add_argument("fqdn")
    issue.add_argument("--ip", action="append", default=[], help="an IP address to include (repeat for several)")
    issue.add_argument("--client", action="store_true", help="a client-only certificate")
    issue.add_argument("--key-type", choices=KEY_TYPES, default=None)
    sub.add_parser("list", help="every certificate: serial, expiry, days left, revoked")
    for name, text in (("show", "one certificate in detail"), ("renew", "a new key and certificate with the same names"),
                       ("revoke", "revoke a certificate and publish the CRL")):  # fmt: skip
        sub.add_parser(name, help=text).add_argument("fqdn")
    install = sub.add_parser("install", help="use a certificate from another CA for a name (e.g. the public API name)")
    install.add_argument("fqdn")
    install.add_argument("--cert", type=Path, required=True)
    install.add_argument("--key", type=Path, required=True)
    install.add_argument("--chain", type=Path, help="intermediate certificates of that CA")
    known = sub.add_parser("ssh-known-hosts", help="the known_hosts line that trusts every host of a cluster")
    known.add_argument("cluster")
    sign_user = sub.add_parser("ssh-sign-user", help="sign an operator's SSH public key with a cluster's user CA (valid 1 day)")
    sign_user.add_argument("cluster")
    sign_user.add_argument("public_key", type=Path, metavar="PUBLIC_KEY_FILE")
    sign_user.add_argument("--principal", action="append", default=[], help="login allowed (default: root)")
    sign_user.add_argument("--identity", default="operator", help="name recorded in the certificate and in sshd's log")
    args = parser.parse_args(argv)
    store = Store.open(config_mod.load())

    def run(operation: str, **params: Any) -> Any:
        # Through the operations table (local-only operations), so every change reaches the audit log.
        return operations.execute(store, operation, {k: v for k, v in params.items() if v is not None})

    result: Message | Table | Record
    if args.command == "init":
        done = run("pki_init", ca_key_type=args.ca_key_type)
        text = f"created: {', '.join(done['created'])}" if done["created"] else "the CA already exists: nothing to do"
        result = Message(f"{text}\nchain: {done['chain']}", data=done)
    elif args.command == "issue":
        paths = run("pki_issue", fqdn=args.fqdn, ip=args.ip, client=args.client, key_type=args.key_type)
        result = Message("\n".join(f"{k}: {v}" for k, v in paths.items()), data=paths)
    elif args.command == "list":
        result = Table(run("pki_list"), LIST_COLUMNS)
    elif args.command == "show":
        result = Record(run("pki_show", fqdn=args.fqdn), order=("name", "subject", "issuer", "serial", "dns_names", "ips", "not_after"))
    elif args.command == "renew":
        paths = run("pki_renew", fqdn=args.fqdn)
        result = Message("\n".join(f"{k}: {v}" for k, v in paths.items()), data=paths)
    elif args.command == "revoke":
        done = run("pki_revoke", fqdn=args.fqdn)
        result = Message(f"{args.fqdn} revoked (serial {done['serial']}); CRL: {done['crl']}", data=done)
    elif args.command == "ssh-known-hosts":
        done = run("pki_ssh_known_hosts", cluster=args.cluster)
        result = Message(done["known_hosts"], data=done)
    elif args.command == "ssh-sign-user":
        public = _read_text(args.public_key)
        done = run("pki_ssh_sign_user", cluster=args.cluster, public_key=public, identity=args.identity, principal=args.principal or None)
        result = Message(done["certificate"], data=done)
    else:
        chain = _read_text(args.chain) if args.chain else None
        paths = run("pki_install", fqdn=args.fqdn, cert=_read_text(args.cert), key=_read_text(args.key), chain=chain)
        result = Message("\n".join(f"{k}: {v}" for k, v in paths.items()), data=paths)
    emit(result, args.json)
    return 0


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise OciError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise OciError(f"cannot read {path}: not a text file") from None
