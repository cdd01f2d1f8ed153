"""``oci-netconf MACHINE [--target DIR] [--print] [--json]``: a machine's network files, from the state.

It renders ``/etc/network/interfaces``, ``/etc/network/interfaces.d/oci`` and ``/etc/hosts`` of a machine
enrolled in a cluster, and writes them under ``--target`` (the root of the system being installed) or prints
them (the default). It reads the state directory on the master and changes nothing there.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from oci import config as config_mod
from oci.cli.edge import edge
from oci.netconf import service
from oci.netconf.target import write_tree
from oci.store import Store


@edge("oci-netconf")
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="oci-netconf",
        description="Render a machine's network configuration (ifupdown) and /etc/hosts from the cluster's state.",
        epilog="Exit codes: 0 success, 1 error, 2 usage. See docs/netconf.md.",
    )
    parser.add_argument("machine", help="serial or hostname of a machine enrolled in a cluster")
    parser.add_argument("--target", metavar="DIR", type=Path, help="write the files under this root (it must exist)")
    parser.add_argument("--print", action="store_true", help="print the files (the default without --target)")
    parser.add_argument("--json", action="store_true", help="print the files and the planned devices as JSON")
    args = parser.parse_args(argv)
    plan = service.plan(Store.open(config_mod.load()), args.machine)
    written = write_tree(args.target, plan.files) if args.target is not None else []
    if args.json:
        devices = [service.describe(d) for d in plan.network.in_order()]
        document = {"serial": plan.serial, "files": plan.files, "devices": devices, "written": [str(p) for p in written]}
        print(json.dumps(document, sort_keys=True))
    elif args.print or args.target is None:
        for path, text in sorted(plan.files.items()):
            sys.stdout.write(f"==> /{path} <==\n{text}\n")
    else:
        for written_path in written:
            print(written_path)
    return 0
