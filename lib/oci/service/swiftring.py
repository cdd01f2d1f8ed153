"""``swift-calculate-ring``: a cluster's Swift rings built and kept on the master (docs/swift.md).

The rings live in ``<state>/swift-rings/<cluster>/``: each ring's builder, its ring file, swift-ring-builder's
backups, and ``rings.yaml``, the record of the region and zone numbers and the devices OCI put in. A calculation
works on a copy of that folder and swaps it in whole at the end. A failed command leaves the rings as they
were, and a crash at any point leaves either the old folder or the new one.

``swift-publish-ring`` copies the ring files to the cluster's installed Swift nodes; an install carries them too.

The first calculation creates the three rings. Later ones add the devices that are not in them yet: a new
store, a new disk, a store that now serves a ring. Then they rebalance, so Swift moves only what the new devices
take. A device that is no longer found is reported and left in the ring: taking weight off a device is an
operator's decision.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import tarfile
import time
from pathlib import Path
from typing import Any

import yaml

from oci import ipam, names, placement, remote, swiftring
from oci.errors import Conflict, InvalidInput, NotFound, OciError
from oci.install.layout import GIB, data_disks
from oci.model import AllocationKind, Cluster, Location, Machine, MachineStatus
from oci.model.settings import CLUSTER_SETTINGS, effective
from oci.run import run
from oci.service import clusters, profiles
from oci.store import Store
from oci.store.files import atomic_write, dump_yaml
from oci.store.locks import file_lock

FOLDER = "swift-rings"
RECORD = "rings.yaml"
BUILD_TIMEOUT = 3600.0  # a guard: a rebalance at partition power 19 takes minutes
PUBLISH_TIMEOUT = 120.0  # one node's copy: a guard


NODE_ROLES = ("swiftstore", "swiftproxy")  # the machines that need the ring files in /etc/swift


def folder(store: Store, cluster: str) -> Path:
    return store.root / FOLDER / names.cluster(cluster)


def ring_files(store: Store, cluster: str) -> dict[str, bytes]:
    """``etc/swift/<ring>.ring.gz`` -> bytes, what a Swift node of ``cluster`` needs; empty until the rings exist."""
    found = {f"etc/swift/{ring}.ring.gz": folder(store, cluster) / f"{ring}.ring.gz" for ring in swiftring.RINGS}
    if not all(path.is_file() for path in found.values()):
        return {}
    return {target: path.read_bytes() for target, path in found.items()}


def stores(store: Store, cluster: str) -> list[swiftring.SwiftStore]:
    """The cluster's swiftstore machines with their data disks and management address."""
    view = clusters.view(store, cluster)
    locations = {loc.name: loc for loc in store.all(Location)}
    cfg = store.config
    out = []
    for member in view.with_role("swiftstore"):
        machine = store.get(Machine, member.serial)
        settings = profiles.settings(store, machine)
        try:
            disks = data_disks(machine.hardware, settings, cfg.install_minimum_disk_gib * GIB)
        except OciError as exc:
            raise Conflict(f"{member.hostname}: {exc.message}", hint=exc.hint) from None
        addresses = [a for n in placement.management_networks(view, member.role, member.location)
                     for a in ipam.addresses_of(n, AllocationKind.MACHINE, member.serial)]  # fmt: skip
        if not addresses:
            raise Conflict(f"{member.hostname} has no address on a management network", hint=f"see machine-ip-list {member.serial}")
        rings = frozenset(r for r in swiftring.RINGS if settings.get(f"swift_store_{r}") is not False)
        out.append(swiftring.SwiftStore(member.hostname, str(addresses[0]), locations[member.location].swift_region, member.location,
                                        disks, rings))  # fmt: skip
    return out


def _read_record(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        return {"regions": {}, "zones": {}, "devices": []}
    return {"regions": dict(data.get("regions") or {}), "zones": dict(data.get("zones") or {}), "devices": list(data.get("devices") or [])}


def _recover(final: Path) -> None:
    """What a crashed calculation left: a half-built copy is dropped; a swap cut in the middle is finished."""
    new, old = final.with_name(final.name + ".new"), final.with_name(final.name + ".old")
    if new.exists() and old.exists() and not final.exists():
        new.rename(final)  # the copy was complete: only the second rename was missing
    if new.exists():
        shutil.rmtree(new)
    if old.exists():
        if final.exists():
            shutil.rmtree(old)
        else:
            old.rename(final)


def ring_parameters(cluster: Cluster) -> swiftring.Parameters:
    """The new rings' partition power and replicas: the cluster's settings (kept by rings already built)."""
    settings = effective(CLUSTER_SETTINGS, cluster.settings)
    return swiftring.Parameters(int(settings["swift_part_power"] or 19), int(settings["swift_replicas"] or 3))


def calculate(store: Store, cluster: str, weights: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create the rings, or add to them what the stores have that they lack, and rebalance. What changed, with
    the commands run and the last line each printed."""
    given = dict(weights or {})
    unknown = sorted(set(given) - set(swiftring.RINGS))
    if unknown:
        raise InvalidInput(f"no ring {unknown[0]!r}", hint="the rings are " + ", ".join(swiftring.RINGS))
    chosen: dict[str, float] = {}
    for ring in swiftring.RINGS:
        weight = given.get(ring, swiftring.DEFAULT_WEIGHT)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 1e6:
            raise InvalidInput(f"the {ring} weight must be a number above 0 and at most 1000000, not {weight!r}")
        chosen[ring] = float(weight)
    if shutil.which("swift-ring-builder") is None:
        raise Conflict("swift-ring-builder is not installed", hint="apt-get install swift")
    final = folder(store, cluster)
    # Its own lock, held while the rings are built (minutes at partition power 19); the topology's only while the
    # stores are read, so enrolments go on meanwhile.
    with file_lock(store.root / "locks" / f"swift-ring-{final.name}.lock", store.lock_timeout, "Swift ring"):
        with store.topology_lock():
            found = stores(store, cluster)
            parameters = ring_parameters(clusters.view(store, cluster).cluster)
        if not found:
            raise NotFound(f"cluster {cluster} has no swiftstore machine", hint=f"machine-add SERIAL {cluster} swiftstore LOCATION")
        final.parent.mkdir(mode=0o750, exist_ok=True)
        _recover(final)
        record = _read_record(final / RECORD)
        regions = swiftring.numbered(record["regions"], (s.region for s in found))
        zones = swiftring.numbered(record["zones"], (s.zone for s in found))
        wanted = swiftring.devices(found, regions, zones, chosen)
        known = {(d["ring"], d["ip"], d["port"], d["name"]) for d in record["devices"]}
        to_add = [d for d in wanted if d.key not in known]
        missing = sorted(key for key in known if key not in {d.key for d in wanted})
        present = {ring for ring in swiftring.RINGS if (final / f"{ring}.builder").exists()}
        if not to_add:
            return _result(cluster, False, [], missing, [], len(known))
        work = final.with_name(final.name + ".new")
        if final.exists():
            shutil.copytree(final, work, symlinks=True)
        else:
            work.mkdir(mode=0o750)
        transcript = []
        try:
            for ring in swiftring.RINGS:
                adding = [d for d in to_add if d.ring == ring]
                if not adding:
                    continue
                for argv in swiftring.commands(str(work), ring, parameters, ring not in present, adding):
                    # 1: done with warnings (a partition kept for min_part_hours); 2: an error.
                    done = run(argv, timeout=BUILD_TIMEOUT, accept=(0, 1))
                    lines = [line for line in done.stdout.splitlines() if line.strip()]
                    transcript.append(f"{shlex.join(argv[1:]).replace(str(work) + '/', '')}: {lines[-1] if lines else 'done'}")
            devices = [*record["devices"], *({"ring": d.ring, "region": d.region, "zone": d.zone, "ip": d.ip, "port": d.port,
                                                "name": d.name, "weight": d.weight} for d in to_add)]  # fmt: skip
            atomic_write(work / RECORD, dump_yaml({"regions": regions, "zones": zones, "devices": devices}).encode())
            old = final.with_name(final.name + ".old")
            if final.exists():
                final.rename(old)
            work.rename(final)
            _sync(final.parent)
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(old)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return _result(cluster, True, to_add, missing, transcript, len(devices))


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _result(cluster: str, changed: bool, added: list[swiftring.Device], missing: list[tuple[str, str, int, str]],
            transcript: list[str], total: int) -> dict[str, Any]:  # fmt: skip
    return {
        "cluster": cluster,
        "changed": changed,
        "added": [f"{d.ring} {d.search} {d.weight:g}" for d in added],
        "missing": [f"{ring} {ip}:{port}/{name}" for ring, ip, port, name in missing],
        "devices": total,
        "transcript": transcript,
    }


def _archive(files: dict[str, bytes]) -> bytes:
    """A tar of the ring files (root's, 0644), extracted on a node at /: file entries only, so no folder's mode changes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in sorted(files.items()):
            entry = tarfile.TarInfo(path)
            entry.size, entry.mode, entry.mtime = len(data), 0o644, int(time.time())
            tar.addfile(entry, io.BytesIO(data))
    return buffer.getvalue()


def publish(store: Store, cluster: str) -> dict[str, Any]:
    """The rings copied to /etc/swift on each installed Swift node of ``cluster`` over the cluster's SSH channel
    (one tar through it, no scp): a node it cannot reach is reported and the others still get them."""
    files = ring_files(store, cluster)
    if not files:
        raise Conflict(f"cluster {cluster} has no Swift rings yet", hint=f"swift-calculate-ring {cluster}")
    archive = _archive(files)
    nodes = []
    for member in clusters.view(store, cluster).members:
        if member.role not in NODE_ROLES:
            continue
        entry: dict[str, str | None] = {"serial": member.serial, "hostname": member.hostname}
        status = store.get(Machine, member.serial).status
        if status is not MachineStatus.INSTALLED:
            nodes.append({**entry, "result": "skipped", "detail": f"{status.value}: its install will carry the rings"})
            continue
        try:
            node = remote.node_of(store, member.serial)
            remote.run_on(store, node, ["tar", "-x", "--no-same-owner", "-f", "-", "-C", "/"], timeout=PUBLISH_TIMEOUT, stdin=archive)
            nodes.append({**entry, "result": "published", "detail": None})
        except OciError as exc:
            nodes.append({**entry, "result": "failed", "detail": exc.message.splitlines()[0]})
    return {"cluster": cluster, "files": sorted(f"/{path}" for path in files), "nodes": nodes}
