"""location-*, swift-region-* and role-* commands."""

from __future__ import annotations

import argparse
from typing import Any

from oci.cli.backend import Backend
from oci.cli.common import command
from oci.cli.output import Column, Message, Table


def _location_create(args: argparse.Namespace, backend: Backend) -> Message:
    return Message(f"location {args.name} created", data=backend.call("location_create", name=args.name, swift_region=args.swift_region))


def _location_list(args: argparse.Namespace, backend: Backend) -> Table:
    return Table(backend.call("location_list"), [Column("name", "name"), Column("swift_region", "swiftregion")])


def _location_delete(args: argparse.Namespace, backend: Backend) -> Message:
    return Message(f"location {args.name} deleted", data=backend.call("location_delete", name=args.name))


def _region_create(args: argparse.Namespace, backend: Backend) -> Message:
    return Message(f"swift region {args.name} created", data=backend.call("swift_region_create", name=args.name))


def _region_list(args: argparse.Namespace, backend: Backend) -> Table:
    return Table(backend.call("swift_region_list"), [Column("name", "name")])


def _region_delete(args: argparse.Namespace, backend: Backend) -> Message:
    return Message(f"swift region {args.name} deleted", data=backend.call("swift_region_delete", name=args.name))


def _role_create(args: argparse.Namespace, backend: Backend) -> Message:
    return Message(f"role {args.name} created", data=backend.call("role_create", name=args.name))


def _role_list(args: argparse.Namespace, backend: Backend) -> Table:
    return Table(backend.call("role_list"), [Column("name", "name"), Column("builtin", "builtin")])


def _role_delete(args: argparse.Namespace, backend: Backend) -> Message:
    return Message(f"role {args.name} deleted", data=backend.call("role_delete", name=args.name))


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = command(sub, common, "location-create", _location_create, "create a location (it is also a Swift zone)")
    p.add_argument("name")
    p.add_argument("swift_region", metavar="swift-region")
    command(sub, common, "location-list", _location_list, "list locations")
    p = command(sub, common, "location-delete", _location_delete, "delete a location that nothing uses")
    p.add_argument("name")

    p = command(sub, common, "swift-region-create", _region_create, "create a Swift region")
    p.add_argument("name")
    command(sub, common, "swift-region-list", _region_list, "list Swift regions")
    p = command(sub, common, "swift-region-delete", _region_delete, "delete a Swift region that no location uses")
    p.add_argument("name")

    command(sub, common, "role-list", _role_list, "list roles")
    p = command(sub, common, "role-create", _role_create, "create a role")
    p.add_argument("name")
    p = command(sub, common, "role-delete", _role_delete, "delete a role that nothing uses")
    p.add_argument("name")
