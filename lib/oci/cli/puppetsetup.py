"""``oci-puppet-setup``: the Puppet server of the master: its configuration, its CA, the report token (root only:
it writes ``[puppet] confdir``). The master package's postinst and ``oci-poc`` run it; safe to run again."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from oci import config as config_mod
from oci.cli.edge import Parser, edge
from oci.cli.output import Message, emit
from oci.puppet import server
from oci.store import Store


@edge("oci-puppet-setup")
def main(argv: Sequence[str] | None = None) -> int:
    parser = Parser(
        prog="oci-puppet-setup",
        description="Configure the master's Puppet server (ENC oci-enc, no autosign, run reports to oci-api) and make its CA.",
        epilog="Exit codes: 0 success, 1 error, 2 usage. Files: [puppet] confdir (puppet.conf 0640), <state>/puppet/report-token (0600).",
    )
    parser.add_argument("--certname", default=None, help="the server's certificate name (default: this host's FQDN, not localhost)")
    parser.add_argument("--vardir", type=Path, default=None, help="the server's data folder (default: Debian's /var/lib/puppetserver)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    store = Store.open(config_mod.load())
    done = server.setup(store, args.certname or server.default_certname(), vardir=args.vardir)
    written = done["written"]
    assert isinstance(written, list)
    text = (
        f"Puppet server {done['certname']} on {done['listen']}, configuration in {done['confdir']}; "
        f"CA {done['ca']}, report token {done['token']}; written: {', '.join(written)}"
    )
    emit(Message(text, data=done), args.json)
    return 0
