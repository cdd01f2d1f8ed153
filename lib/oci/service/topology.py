"""Swift regions, locations and roles."""

from __future__ import annotations

from typing import Any

from oci import names
from oci.errors import Conflict, InvalidInput, NotFound
from oci.model import BUILTIN_ROLES, SPECIAL_ROLES, Location, Network, Role, SwiftRegion
from oci.service.views import machine_views
from oci.store import Store


def _users(items: list[str], what: str, limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return f"{what} {shown}{more}"


# ------------------------------------------------------------------------------------------ regions
def region_create(store: Store, name: str) -> dict[str, Any]:
    region = SwiftRegion(names.swift_region(name))
    with store.topology_lock():
        if store.find(SwiftRegion, name):
            raise Conflict(f"swift region '{name}' already exists")
        tx = store.transaction()
        tx.put(region)
        tx.commit()
    return {"name": name}


def region_list(store: Store) -> list[dict[str, Any]]:
    return [{"name": r.name} for r in store.all(SwiftRegion)]


def region_delete(store: Store, name: str) -> dict[str, Any]:
    names.swift_region(name)
    with store.topology_lock():
        store.get(SwiftRegion, name)
        users = [loc.name for loc in store.all(Location) if loc.swift_region == name]
        if users:
            raise Conflict(f"swift region '{name}' is used by {_users(users, 'location')}", hint="delete those locations first")
        tx = store.transaction()
        tx.delete(SwiftRegion, name)
        tx.commit()
    return {"name": name}


# ------------------------------------------------------------------------------------------ locations
def location_create(store: Store, name: str, region: str) -> dict[str, Any]:
    location = Location(names.location(name), names.swift_region(region))
    with store.topology_lock():
        if store.find(Location, name):
            raise Conflict(f"location '{name}' already exists")
        if not store.find(SwiftRegion, region):
            raise NotFound(f"no swift region named '{region}'", hint="create it with swift-region-create")
        tx = store.transaction()
        tx.put(location)
        tx.commit()
    return {"name": name, "swift_region": region}


def location_list(store: Store) -> list[dict[str, Any]]:
    return [{"name": loc.name, "swift_region": loc.swift_region} for loc in store.all(Location)]


def location_delete(store: Store, name: str) -> dict[str, Any]:
    names.location(name)
    with store.topology_lock():
        store.get(Location, name)
        networks = [n.name for n in store.all(Network) if n.location == name]
        if networks:
            raise Conflict(f"location '{name}' is used by {_users(networks, 'network')}", hint="delete those networks first")
        machines = [v["serial"] for v in machine_views(store).values() if v["location"] == name]
        if machines:
            raise Conflict(f"location '{name}' is used by {_users(machines, 'machine')}", hint="machine-remove them first")
        tx = store.transaction()
        tx.delete(Location, name)
        tx.commit()
    return {"name": name}


# ------------------------------------------------------------------------------------------ roles
def role_exists(store: Store, name: str) -> bool:
    return name in BUILTIN_ROLES or store.find(Role, name) is not None


def role_create(store: Store, name: str) -> dict[str, Any]:
    names.role(name)
    if name in SPECIAL_ROLES:
        raise InvalidInput(f"role name '{name}' is reserved for special networking purposes")
    with store.topology_lock():
        if role_exists(store, name):
            raise Conflict(f"role '{name}' already exists")
        tx = store.transaction()
        tx.put(Role(name))
        tx.commit()
    return {"name": name, "builtin": False}


def role_list(store: Store) -> list[dict[str, Any]]:
    custom = [{"name": r.name, "builtin": False} for r in store.all(Role)]
    return sorted([{"name": r, "builtin": True} for r in BUILTIN_ROLES] + custom, key=lambda r: str(r["name"]))


def role_delete(store: Store, name: str) -> dict[str, Any]:
    names.role(name)
    if name in BUILTIN_ROLES:
        raise Conflict(f"role '{name}' is built in and cannot be deleted")
    with store.topology_lock():
        store.get(Role, name)
        machines = [v["serial"] for v in machine_views(store).values() if v["role"] == name]
        networks = [n.name for n in store.all(Network) if n.role == name]
        if machines or networks:
            users = " and ".join(
                x for x in (_users(machines, "machine") if machines else "", _users(networks, "network") if networks else "") if x
            )
            raise Conflict(f"role '{name}' is used by {users}")
        tx = store.transaction()
        tx.delete(Role, name)
        tx.commit()
    return {"name": name}
