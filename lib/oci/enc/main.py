"""``oci-enc CERTNAME``: Puppet's external node classifier. It prints the file the master keeps for the
host (``<state>/enc/cluster-*/<certname>.yaml``) and exits 0, or says on stderr that the host is unknown and
exits 1, as Puppet's ENC contract wants. Puppet runs it for every catalog: it imports nothing but the
standard library's bare minimum. So it alone is not wrapped by ``oci.cli.edge`` (argparse, difflib, the output
module: about three times its import time), and prints its two errors itself, in the edge's format."""

from __future__ import annotations

import os
import re
import sys

_CERTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+")


def state_dir() -> str:
    if os.environ.get("OCI_STATE_DIR"):
        return os.environ["OCI_STATE_DIR"]
    from oci import config  # only when the environment does not say: the full configuration reader

    return str(config.load().state_dir)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: oci-enc CERTNAME (Puppet's external node classifier)", file=sys.stderr)
        return 2
    certname = args[0]
    if len(certname) > 253 or not _CERTNAME.fullmatch(certname):
        print(f"oci-enc: error: invalid certname {certname[:60]!r}", file=sys.stderr)
        return 1
    root = os.path.join(state_dir(), "enc")
    try:
        folders = [f for f in os.listdir(root) if f.startswith("cluster-")]
    except FileNotFoundError:
        folders = []
    for folder in folders:
        try:
            with open(os.path.join(root, folder, f"{certname}.yaml"), "rb") as handle:
                sys.stdout.buffer.write(handle.read())
            return 0
        except FileNotFoundError:
            continue
    print(f"oci-enc: error: unknown node {certname}: not enrolled in any cluster", file=sys.stderr)
    return 1
