"""cluster-* commands."""

from __future__ import annotations

import argparse
from typing import Any

from oci.cli import clusterinstall
from oci.cli.backend import Backend
from oci.cli.common import add_setting_options, command, dry_run, seconds, setting_values
from oci.cli.networks import NETWORK_COLUMNS
from oci.cli.output import Column, Message, Record, Table
from oci.model.settings import CLUSTER_SETTINGS
from oci.store.files import dump_yaml

SHOW_ORDER = ("name", "domain", "api_hostname", "first_master", "vips", "sql_vip_address", "machines_per_role", "networks", "problems")


def _create(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("cluster_create", name=args.name, domain=args.domain)
    return Message(f"cluster {args.name} created", data=result)


def _list(args: argparse.Namespace, backend: Backend) -> Table:
    return Table(backend.call("cluster_list"), [Column("name", "name"), Column("domain", "domain")])


def _show(args: argparse.Namespace, backend: Backend) -> Record:
    return Record(backend.call("cluster_show", name=args.name), order=SHOW_ORDER)


def _check(args: argparse.Namespace, backend: Backend) -> Message:
    problems = backend.call("cluster_check", name=args.name)
    if not problems:
        return Message(f"cluster {args.name}: no problem found", data={"problems": []})
    text = f"cluster {args.name} has {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems)
    return Message(text, data={"problems": problems}, exit_code=3)


def _set(args: argparse.Namespace, backend: Backend) -> Record | Message:
    values, unset = setting_values(args, CLUSTER_SETTINGS)
    params = {"name": args.name, "settings": values, "unset": unset, "first_master": args.first_master}
    if args.dry_run:
        return dry_run(backend, "cluster_set", params)  # type: ignore[no-any-return]
    return Record(backend.call("cluster_set", **params), order=SHOW_ORDER)


def _delete(args: argparse.Namespace, backend: Backend) -> Message:
    return Message(f"cluster {args.name} deleted", data=backend.call("cluster_delete", name=args.name))


def _machines(args: argparse.Namespace, backend: Backend) -> Table:
    columns = [Column(k, h) for k, h in (("serial", "serial"), ("hostname", "hostname"), ("role", "role"), ("location", "location"),
                                         ("status", "status"), ("memory_mb", "memory"), ("last_seen", "lastseen"))]  # fmt: skip
    return Table(backend.call("cluster_show_machines", name=args.name), columns)


def _networks(args: argparse.Namespace, backend: Backend) -> Table:
    return Table(backend.call("cluster_show_networks", name=args.name), NETWORK_COLUMNS)


def _ips(args: argparse.Namespace, backend: Backend) -> Table:
    columns = [Column("hostname", "hostname"), Column("owner", "owner"), Column("network", "network"), Column("address", "ip")]
    return Table(backend.call("cluster_show_ips", name=args.name), columns)


def _enc_show(args: argparse.Namespace, backend: Backend) -> Message:
    document = backend.call("enc_show", host=args.host)
    return Message(dump_yaml(document).rstrip(), data=document)


def _swift_ring(args: argparse.Namespace, backend: Backend) -> Message:
    weights = {ring: getattr(args, f"{ring}_weight") for ring in ("account", "container", "object")}
    result = backend.call("swift_calculate_ring", name=args.name, weights={k: v for k, v in weights.items() if v is not None})
    lines = [*result["transcript"]]
    if result["changed"]:
        lines.append(f"cluster {args.name}: {len(result['added'])} device(s) added, {result['devices']} in the rings")
    else:
        lines.append(f"cluster {args.name}: the rings already hold every store's disks ({result['devices']} devices); nothing changed")
    lines += [f"not found any more (left in the ring): {device}" for device in result["missing"]]
    return Message("\n".join(lines), data=result)


def _swift_publish(args: argparse.Namespace, backend: Backend) -> Message:
    result = backend.call("swift_publish_ring", name=args.name)
    lines = [f"{n['hostname']}: {n['result']}" + (f" ({n['detail']})" if n["detail"] else "") for n in result["nodes"]]
    if not lines:
        lines = [f"cluster {args.name} has no swiftstore or swiftproxy machine"]
    failed = any(n["result"] == "failed" for n in result["nodes"])
    return Message("\n".join(lines), data=result, exit_code=1 if failed else 0)


def _rolecounts(args: argparse.Namespace, backend: Backend) -> Table:
    return Table(backend.call("cluster_rolecounts_list", name=args.name), [Column("role", "role"), Column("count", "count")])


def _rolecounts_set(args: argparse.Namespace, backend: Backend) -> Message:
    done = backend.call("cluster_rolecounts_set", name=args.name, role=args.role, count=args.count)
    return Message(f"{done['cluster']}: the next {done['role']} takes number {done['count'] + 1} (or the next free one)", data=done)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = command(sub, common, "enc-show", _enc_show, "print a host's Puppet classification (what oci-enc answers)")
    p.add_argument("host", help="the host's FQDN (Puppet certname)")
    p = command(sub, common, "cluster-create", _create, "create a cluster")
    p.add_argument("name")
    p.add_argument("domain")
    command(sub, common, "cluster-list", _list, "list clusters")
    for name, handler, text in (
        ("cluster-show", _show, "show a cluster: settings, VIPs, machines per role, problems"),
        ("cluster-check", _check, "say what a cluster still lacks (exit code 3 when something is missing)"),
        ("cluster-delete", _delete, "delete a cluster that has no machine and no network"),
        ("cluster-show-machines", _machines, "list the machines of a cluster"),
        ("cluster-show-networks", _networks, "list the networks of a cluster"),
        ("cluster-show-ips", _ips, "list every address of a cluster"),
        ("cluster-rolecounts-list", _rolecounts, "list a cluster's hostname counters (the number each role's last hostname took)"),
    ):
        p = command(sub, common, name, handler, text)
        p.add_argument("name")
    p = command(sub, common, "cluster-rolecounts-set", _rolecounts_set,
                "set a role's hostname counter: its next machine takes number COUNT + 1 (a taken name is skipped)")  # fmt: skip
    p.add_argument("name")
    p.add_argument("role")
    p.add_argument("count", type=int)
    p = command(sub, common, "cluster-set", _set, "change cluster settings")
    p.add_argument("name")
    p.add_argument("--first-master", metavar="SERIAL", help="the controller that bootstraps the cluster")
    p.add_argument("--dry-run", action="store_true", help="show how the hosts' classifications would change, and change nothing")
    add_setting_options(p, CLUSTER_SETTINGS)

    p = command(sub, common, "cluster-install", clusterinstall.install,
                "install every live machine of a cluster in stages, showing their progress, until the first failure",
                epilog=clusterinstall.INSTALL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("name")
    p.add_argument("--dry-run", action="store_true", help="print the stages and change nothing")
    p.add_argument("--timeout", type=seconds, default=14400.0, metavar="SECONDS", help="give up after SECONDS (default: 14400)")
    p.add_argument("--poll", type=seconds, default=5.0, metavar="SECONDS", help="ask every SECONDS (default: 5)")
    p = command(sub, common, "swift-calculate-ring", _swift_ring,
                "build a cluster's Swift rings from its stores' data disks, or add the new ones, and rebalance")  # fmt: skip
    p.add_argument("name", metavar="cluster")
    for ring in ("account", "container", "object"):
        p.add_argument(f"--{ring}-weight", type=int, metavar="W", help=f"weight of new {ring} devices (default: 1000)")
    p = command(sub, common, "swift-publish-ring", _swift_publish,
                "copy a cluster's Swift rings to /etc/swift on its installed Swift nodes (exit code 1 if one failed)")  # fmt: skip
    p.add_argument("name", metavar="cluster")
    p = command(sub, common, "cluster-reset", clusterinstall.reset,
                "reboot every machine of a cluster that is not live into the live image")  # fmt: skip
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="really do it")
