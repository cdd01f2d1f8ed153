"""The state store: every change to the state directory goes through it (atomic writes, locks, the journal).

Outside it, only readers and lock files touch the tree: ``oci-enc`` reads ``enc/`` directly (it must stay
import-light), ``service/dryrun.py`` copies the tree to a scratch directory, and ``bmc.py`` keeps its
per-BMC lock files in ``locks/``.

Layout (docs/state.md has the full description)::

    <root>/machines/<serial>.yaml      Machine
    <root>/seen/<serial>.yaml          Heartbeat (one-line JSON, which is YAML too)
    <root>/conflicts/<serial>.json     AddressConflict list: node requests refused for that machine
    <root>/clusters/<name>.yaml        Cluster
    <root>/networks/<name>.yaml        Network, with its address allocations
    <root>/locations/<name>.yaml       Location
    <root>/swift-regions/<name>.yaml   SwiftRegion
    <root>/roles/<name>.yaml           Role (operator-created only)
    <root>/journal.yaml                pending multi-file change (exists only during a commit or after a crash)
    <root>/locks/                      lock files
    <root>/cache/                      derived data, safe to delete (machine-views.json, machine-views/<serial>.json)
    <root>/index/mac/<mac>             symbolic link to the serial of the machine that reported this NIC (derived,
                                       checked on read)
    <root>/index/address/<ip>          the serial whose last report came from this address (the same)

Concurrency: every change to clusters, networks, locations, regions, roles or a machine's enrolment runs
under the *topology lock*; every write of a machine file runs under that machine's lock (lock striping over
64 files). Reports write under the machine lock only, so they never wait for a long topology command to
record a report (only the rare one that changes a classification then waits to re-render it). Readers take
no lock: every file is replaced atomically, so a reader sees each file whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, TypeVar

from oci import names
from oci.config import Config
from oci.errors import InvalidName, InvalidState, NotFound, OciError
from oci.model import AddressConflict, BmcAccess, Cluster, ClusterSecrets, Heartbeat, Location, Machine, Network, Role, SwiftRegion, Token
from oci.model.codec import decode, encode
from oci.store import files
from oci.store.locks import file_lock

T = TypeVar("T")
MACHINE_LOCK_STRIPES = 64
# The listing's view of a machine and its version (service/views.py registers them): written beside each
# machine file as the file is written, so the first listing after many writes (a mass discovery) reads small
# JSON files instead of decoding every machine's YAML.
_LISTING_VIEW: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {}
LOG = logging.getLogger("oci.store")


def register_listing_view(version: str, view: Callable[[Any], dict[str, Any]]) -> None:
    _LISTING_VIEW["machine"] = (version, view)


@dataclass(frozen=True)
class Kind:
    directory: str
    model: type
    validate: Callable[[object], str]
    label: str
    mode: int = 0o644
    listing: str = ""  # the command that lists them, for hints

    @property
    def list_command(self) -> str:
        return self.listing or f"ocicli {self.directory.rstrip('s')}-list"

    def key(self, obj: Any) -> str:
        if self.model in (Machine, BmcAccess):
            return str(obj.serial)
        return str(obj.cluster if self.model is ClusterSecrets else obj.name)


KINDS: dict[type, Kind] = {
    Machine: Kind("machines", Machine, names.serial, "machine"),
    Cluster: Kind("clusters", Cluster, names.cluster, "cluster"),
    Network: Kind("networks", Network, names.network, "network"),
    Location: Kind("locations", Location, names.location, "location"),
    SwiftRegion: Kind("swift-regions", SwiftRegion, names.swift_region, "swift region"),
    Role: Kind("roles", Role, names.role, "role"),
    ClusterSecrets: Kind("secrets", ClusterSecrets, names.cluster, "secrets of cluster", mode=0o600, listing="ocicli cluster-list"),
    BmcAccess: Kind("bmc", BmcAccess, names.serial, "BMC access of machine", mode=0o600, listing="ocicli machine-list"),
    Token: Kind("tokens", Token, lambda n: names.object_name(n, "token name"), "token", mode=0o600, listing="oci-token list"),
}
_BY_DIRECTORY = {k.directory: k for k in KINDS.values()}


class Store:
    def __init__(self, root: Path, lock_timeout: float | None = None, config: Config | None = None) -> None:
        self.root = root
        # The site's settings travel with the store, so every service sees the configuration it was opened with.
        self.config = config or Config(state_dir=root)
        self.lock_timeout = self.config.lock_timeout if lock_timeout is None else lock_timeout
        self._held = threading.local()
        # Decoded objects by path, with the (inode, mtime, size) of the file they came from: a long-lived
        # process (oci-api) decodes a file again only when it was replaced.
        self._decoded: dict[Path, tuple[tuple[int, int, int], Any]] = {}

    @classmethod
    def open(cls, config: Config) -> Store:
        """The state directory ``config`` names, with ``config``'s settings (the store imports the
        configuration, never the reverse: no import loop)."""
        return cls(config.state_dir, config=config)

    # ----------------------------------------------------------------------------------------- paths
    def _path(self, kind: Kind, name: object) -> Path:
        return self.root / kind.directory / f"{kind.validate(name)}.yaml"

    def _seen_path(self, serial: object) -> Path:
        return self.root / "seen" / f"{names.serial(serial)}.yaml"

    def _conflicts_path(self, serial: object) -> Path:
        return self.root / "conflicts" / f"{names.serial(serial)}.json"

    # ----------------------------------------------------------------------------------------- reads
    def _decode(self, kind: Kind, path: Path, raw: bytes) -> Any:
        source = os.fspath(path.relative_to(self.root))
        try:
            data = files.load_yaml(raw)
        except Exception as exc:  # yaml.YAMLError, UnicodeDecodeError
            raise InvalidState(f"{source}: not valid YAML: {str(exc).splitlines()[0]}") from None
        obj: Any = decode(kind.model, data, source, error=InvalidState)
        if kind.key(obj) != path.stem:
            raise InvalidState(f"{source}: holds {kind.label} '{kind.key(obj)}', not '{path.stem}'")
        return obj

    def find(self, model: type[T], name: object) -> T | None:
        kind = KINDS[model]
        path = self._path(kind, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            st = os.fstat(fd)  # the stamp of the very file read below, even if it is replaced meanwhile
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            cached = self._decoded.get(path)
            if cached is not None and cached[0] == stamp:
                return cached[1]  # type: ignore[no-any-return]
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(fd)
        obj = self._decode(kind, path, b"".join(chunks))
        self._decoded[path] = (stamp, obj)
        return obj  # type: ignore[no-any-return]

    def get(self, model: type[T], name: object) -> T:
        obj = self.find(model, name)
        if obj is None:
            kind = KINDS[model]
            raise NotFound(f"no {kind.label} named '{name}'", hint=f"see {kind.list_command}")
        return obj

    def names(self, model: type) -> list[str]:
        folder = self.root / KINDS[model].directory
        try:
            entries = os.listdir(folder)
        except FileNotFoundError:
            return []
        return sorted(e[:-5] for e in entries if e.endswith(".yaml") and not e.startswith("."))

    def all(self, model: type[T]) -> list[T]:
        out = []
        for name in self.names(model):
            obj = self.find(model, name)
            if obj is not None:  # deleted between listing and reading
                out.append(obj)
        return out

    # ----------------------------------------------------------------------------------------- indexes
    # GET /boot/ipxe finds a machine by a NIC's MAC, else by the address of its last report: one symbolic link
    # each instead of a scan of every machine. An entry is a hint that names a serial, believed only if that machine
    # still has the MAC (or that address): a stale entry (a crash between two writes, a NIC moved to another
    # chassis) finds nothing rather than the wrong machine. Entries are written before the file they point to
    # and removed after it, so a machine file never lacks its entries. An index missing its ".complete" marker
    # (a state directory from before indexes) is built from the files once, on first use.
    def _index_path(self, index: str, key: str) -> Path:
        return self.root / "index" / index / key

    def _index_read(self, index: str, key: str) -> str | None:
        """The serial an entry names; None when there is none, or when it is not a serial (a damaged entry)."""
        try:
            return names.serial(os.readlink(self._index_path(index, key)))
        except (OSError, InvalidName):  # none, or not a link
            return None

    def _index_put(self, index: str, key: str, serial: str) -> None:
        """An entry is a symbolic link whose target is the serial: no fsync. One lost to a power cut is made
        again by the machine's next write (each write puts every entry of the machine that is not right)."""
        if self._index_read(index, key) != serial:
            files.atomic_symlink(self._index_path(index, key), serial)

    def _index_drop(self, index: str, key: str, serial: str) -> None:
        if self._index_read(index, key) == serial:  # another machine's entry (the NIC moved) is left alone
            files.remove(self._index_path(index, key))

    def _index_complete(self, index: str, build: Callable[[], None]) -> None:
        marker = self._index_path(index, ".complete")
        if not marker.exists():
            build()
            files.atomic_write(marker, b"1\n")

    def machine_by_mac(self, mac: str) -> Machine | None:
        """The machine that reported a NIC with this MAC (lowercase, colon-separated), or None."""
        key = _mac_key(mac)
        if key is None:
            return None

        def build() -> None:
            for machine in self.all(Machine):
                self._index_macs(None, machine)

        self._index_complete("mac", build)
        serial = self._index_read("mac", key)
        machine = self.find(Machine, serial) if serial else None
        return machine if machine is not None and mac in {nic.mac for nic in machine.hardware.nics} else None

    def machine_by_address(self, address: IPv4Address) -> Machine | None:
        """The machine whose last report came from ``address``, or None."""

        def build() -> None:
            for serial, beat in self.heartbeats().items():
                if beat.address is not None:
                    self._index_put("address", str(beat.address), serial)

        self._index_complete("address", build)
        serial = self._index_read("address", str(address))
        if serial is None:
            return None
        beat = self.heartbeat(serial)
        return self.find(Machine, serial) if beat is not None and beat.address == address else None

    def _index_macs(self, before: Machine | None, after: Machine | None) -> Callable[[], None]:
        """Index every MAC of ``after`` (a link read each; a link made where one is missing or names another
        machine); return what drops those ``before`` had and ``after`` has not (to run once the machine file is
        written or removed)."""
        old, new = _macs(before), _macs(after)
        machine = after or before
        if machine is None:
            return lambda: None
        for key in sorted(new):
            self._index_put("mac", key, machine.serial)

        def drop_stale() -> None:
            for key in sorted(old - new):
                self._index_drop("mac", key, machine.serial)

        return drop_stale

    def exists_machine(self, serial: object) -> bool:
        return self._path(KINDS[Machine], serial).exists()

    def heartbeat(self, serial: object) -> Heartbeat | None:
        path = self._seen_path(serial)
        raw = files.read_bytes(path)
        return None if raw is None else self._decode_heartbeat(path, raw)

    def _decode_heartbeat(self, path: Path, raw: bytes) -> Heartbeat:
        source = os.fspath(path.relative_to(self.root))
        try:
            data = json.loads(raw)  # written as JSON for speed; a hand-edited file may be other YAML
        except ValueError:
            try:
                data = files.load_yaml(raw)
            except Exception as exc:
                raise InvalidState(f"{source}: not valid YAML: {str(exc).splitlines()[0]}") from None
        return decode(Heartbeat, data, source, error=InvalidState)

    def conflicts(self, serial: object) -> list[AddressConflict]:
        """The refused requests recorded for ``serial`` (docs/security.md), oldest first."""
        path = self._conflicts_path(serial)
        raw = files.read_bytes(path)
        if raw is None:
            return []
        source = os.fspath(path.relative_to(self.root))
        try:
            data = json.loads(raw)
        except ValueError:
            raise InvalidState(f"{source}: not valid JSON") from None
        if not isinstance(data, list):
            raise InvalidState(f"{source}: expected a list")
        return [decode(AddressConflict, item, f"{source}[{i}]", error=InvalidState) for i, item in enumerate(data)]

    def write_conflicts(self, serial: str, conflicts: list[AddressConflict]) -> None:
        self._require_machine(serial)
        path = self._conflicts_path(serial)
        if not conflicts:
            files.remove(path)
            return
        data = json.dumps([encode(c) for c in conflicts], sort_keys=True).encode() + b"\n"
        # Not durable, like heartbeats: a refused request costs no fsync, however many a source sends.
        files.atomic_write(path, data, durable=False)

    def heartbeats(self) -> dict[str, Heartbeat]:
        """Every heartbeat. A listing reads thousands of these, so this path avoids per-file overheads."""
        folder = self.root / "seen"
        out = {}
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return {}
        for entry in entries:
            name = entry.name
            if not name.endswith(".yaml") or name.startswith("."):
                continue
            raw = files.read_bytes(entry.path)
            if raw is None:
                continue
            try:
                out[name[:-5]] = _heartbeat_from_json(raw)
            except (ValueError, KeyError, TypeError):
                out[name[:-5]] = self._decode_heartbeat(Path(entry.path), raw)  # the strict path says what is wrong
        return out

    def machine_views(self, view: Callable[[Machine], dict[str, Any]], version: str) -> dict[str, dict[str, Any]]:
        """``view(machine)`` for every machine, through a cache keyed by each file's inode, mtime and size.

        Loading thousands of YAML files costs ~0.4 ms each; a listing only needs a small view of each
        machine, and machine files change rarely (heartbeats live elsewhere), so the views are kept in
        ``cache/machine-views.json``. A file that changed since is read through the view its writer left
        beside it (``cache/machine-views/<serial>.json``, ``register_listing_view``), and decoded only when
        there is none for that very file. ``version`` names the view function: a new one discards the cache.
        """
        folder = self.root / "machines"
        cache_path = self.root / "cache" / "machine-views.json"
        try:
            cached = json.loads(cache_path.read_bytes())
            entries = cached["entries"] if cached.get("version") == version else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            entries = {}
        fresh: dict[str, list[Any]] = {}
        changed = False
        try:
            dir_entries = list(os.scandir(folder))
        except FileNotFoundError:
            dir_entries = []
        for entry in dir_entries:
            name = entry.name
            if not name.endswith(".yaml") or name.startswith("."):
                continue
            serial = name[:-5]
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue
            stamp = [st.st_ino, st.st_mtime_ns, st.st_size]
            old = entries.get(serial)
            if old is not None and old[:3] == stamp:
                fresh[serial] = old
                continue
            changed = True
            written = self._read_view(serial, version, stamp)  # what the file's writer left beside it
            if written is not None:
                fresh[serial] = [*stamp, written]
                continue
            raw = files.read_bytes(Path(entry.path))
            if raw is None:
                continue
            fresh[serial] = [*stamp, view(self._decode(KINDS[Machine], Path(entry.path), raw))]
        if changed or len(fresh) != len(entries):
            with contextlib.suppress(OSError):  # a reader without write access simply gets no cache
                files.atomic_write(cache_path, json.dumps({"version": version, "entries": fresh}).encode())
        return {serial: item[3] for serial, item in sorted(fresh.items())}

    # ----------------------------------------------------------------------------------------- other files
    def blob_path(self, *parts: str) -> Path:
        """A path under the state directory for files that are not YAML objects (keys, certificates).
        Each part is a single, already validated name; anything else is refused, so no write escapes."""
        for part in parts:
            if not isinstance(part, str) or not part or part in (".", "..") or "/" in part or "\0" in part or part.startswith("."):
                raise InvalidName(f"invalid path component {part!r}")
        return self.root.joinpath(*parts)

    def read_blob(self, *parts: str) -> bytes | None:
        return files.read_bytes(self.blob_path(*parts))

    def write_blob(self, *parts: str, data: bytes, mode: int = 0o644, durable: bool = True) -> Path:
        path = self.blob_path(*parts)
        files.atomic_write(path, data, mode=mode, durable=durable)
        return path

    def remove_blob(self, *parts: str) -> bool:
        return files.remove(self.blob_path(*parts))

    def list_blobs(self, *parts: str) -> list[str]:
        try:
            return sorted(e for e in os.listdir(self.blob_path(*parts)) if not e.startswith("."))
        except FileNotFoundError:
            return []

    # ----------------------------------------------------------------------------------------- locks
    def _held_set(self) -> set[str]:
        held = getattr(self._held, "locks", None)
        if held is None:
            held = self._held.locks = set()
        return held

    @contextlib.contextmanager
    def topology_lock(self) -> Iterator[None]:
        """Exclusive right to change topology; replays a journal left by a crashed command."""
        held = self._held_set()
        if "topology" in held:
            yield
            return
        with file_lock(self.root / "locks" / "topology.lock", self.lock_timeout, "state"):
            held.add("topology")
            try:
                self._recover()
                yield
            finally:
                held.discard("topology")

    @contextlib.contextmanager
    def machine_lock(self, serials: Iterable[str]) -> Iterator[None]:
        """Lock the machines' files (stripes taken in a fixed order, so two callers never deadlock)."""
        held = self._held_set()
        stripes = sorted({zlib.crc32(names.serial(s).encode()) % MACHINE_LOCK_STRIPES for s in serials})
        with contextlib.ExitStack() as stack:
            for stripe in stripes:
                key = f"machine-{stripe:02d}"
                if key in held:
                    continue
                stack.enter_context(file_lock(self.root / "locks" / f"{key}.lock", self.lock_timeout, "machine"))
                held.add(key)
                stack.callback(held.discard, key)
            yield

    def _require(self, *keys: str) -> None:
        held = self._held_set()
        for key in keys:
            if key not in held:
                raise RuntimeError(f"store write without the {key} lock")  # a programming error

    def _require_machine(self, serial: str) -> None:
        self._require(f"machine-{zlib.crc32(serial.encode()) % MACHINE_LOCK_STRIPES:02d}")

    # ----------------------------------------------------------------------------------------- writes
    def _write(self, obj: Any) -> None:
        kind = KINDS[type(obj)]
        path = self._path(kind, kind.key(obj))
        drop_stale = self._index_macs(self._current(obj.serial), obj) if isinstance(obj, Machine) else None  # entries first
        stamp = files.atomic_write(path, files.dump_yaml(encode(obj)).encode(), mode=kind.mode)
        # The object is what the file now holds: this process's next read of it needs no decoding (a network
        # with a thousand allocations costs milliseconds to decode; BMC numbering reads it at every report).
        self._decoded[path] = (stamp, obj)
        if drop_stale is not None:  # a machine
            drop_stale()  # the entries of MACs it no longer has, then its listing view
            self._write_view(obj, stamp)

    def _view_path(self, serial: str) -> Path:
        return self.root / "cache" / "machine-views" / f"{serial}.json"

    def _write_view(self, machine: Machine, stamp: tuple[int, int, int]) -> None:
        """The listing's view of the machine file just written, with the file's stamp: a listing believes it
        only while the file is that one (a later write, by this process or another, makes it stale)."""
        if "machine" not in _LISTING_VIEW:
            return
        version, view = _LISTING_VIEW["machine"]
        with contextlib.suppress(OSError):  # a derived file: the listing computes the view if it is missing
            entry = {"version": version, "stamp": list(stamp), "view": view(machine)}
            files.atomic_write(self._view_path(machine.serial), json.dumps(entry).encode(), synced=False)

    def _read_view(self, serial: str, version: str, stamp: list[int]) -> dict[str, Any] | None:
        raw = files.read_bytes(self._view_path(serial))
        try:
            entry = json.loads(raw) if raw is not None else None
            if entry is not None and entry["version"] == version and entry["stamp"] == stamp:
                return entry["view"]  # type: ignore[no-any-return]
        except (ValueError, KeyError, TypeError):  # a torn or foreign file: computed again
            pass
        return None

    def _current(self, serial: str) -> Machine | None:
        """The machine file as it is, if it is readable (a damaged one is being replaced: its entries stay as hints)."""
        with contextlib.suppress(InvalidState):
            return self.find(Machine, serial)
        return None

    def write_machine(self, machine: Machine) -> None:
        """Write one machine file (node-side updates: reports, status)."""
        self._require_machine(machine.serial)
        before = self.find(Machine, machine.serial) if self.recording_changes() else None
        self._write(machine)
        self._record(before, machine)

    # ----------------------------------------------------------------------------------------- changes
    @contextlib.contextmanager
    def recording(self) -> Iterator[list[tuple[Any, Any]]]:
        """Collect ``(before, after)`` for every object this thread writes until the block ends (``before``
        None for a creation, ``after`` None for a deletion): what a change touched, from which the views
        derived from the state (the ENC: enc/refresh.py ``following``) decide what to re-render. A nested
        block shares the outer one's list."""
        current: list[tuple[Any, Any]] | None = getattr(self._held, "changes", None)
        if current is not None:
            yield current
            return
        changes: list[tuple[Any, Any]] = []
        self._held.changes = changes
        try:
            yield changes
        finally:
            self._held.changes = None

    def recording_changes(self) -> bool:
        return getattr(self._held, "changes", None) is not None

    def _record(self, before: Any, after: Any) -> None:
        changes = getattr(self._held, "changes", None)
        if changes is not None:
            changes.append((before, after))

    def write_heartbeat(self, serial: str, heartbeat: Heartbeat) -> None:
        self._require_machine(serial)
        if heartbeat.address is not None:  # a link read per report; a link made when the address changed
            self._index_put("address", str(heartbeat.address), serial)
        data = json.dumps(encode(heartbeat), sort_keys=True).encode() + b"\n"
        # Not durable: losing the last heartbeat to a power cut only makes "last seen" older by one report.
        files.atomic_write(self._seen_path(serial), data, durable=False)

    def append_audit(self, line: str) -> None:
        """One line at the end of ``audit.log`` (mode 0600): a single ``write`` with O_APPEND, so lines of
        concurrent processes never mix, and fsync, so an acknowledged change is never missing from it."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / "audit.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, line.replace("\n", " ").encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove_stale_temp_files(self) -> int:
        """Remove the temp files crashed writers left in the state (oci-api does it at start-up); how many."""
        removed = files.remove_stale_temp_files(self.root)
        if removed:
            shown = ", ".join(os.fspath(p.relative_to(self.root)) for p in removed[:10]) + (" ..." if len(removed) > 10 else "")
            LOG.info("removed %d stale temporary file(s) from %s: %s", len(removed), self.root, shown)
        return len(removed)

    def transaction(self) -> Transaction:
        self._require("topology")
        return Transaction(self)

    # ----------------------------------------------------------------------------------------- journal
    def _journal_path(self) -> Path:
        return self.root / "journal.yaml"

    def _apply(self, op: dict[str, Any], obj: Any = None) -> None:
        """One journalled change. ``obj``: the object the op was encoded from, when the committing process has
        it (a replay decodes the op's data instead)."""
        kind = _BY_DIRECTORY[op["kind"]]
        name = op["name"]
        if op["op"] == "delete":
            if kind.model is Machine:
                drop_stale = self._index_macs(self._current(name), None)
                beat = self.heartbeat(name)
            files.remove(self._path(kind, name))
            if kind.model is Machine:
                files.remove(self._seen_path(name))
                files.remove(self._conflicts_path(name))
                files.remove(self._view_path(name))
                drop_stale()
                if beat is not None and beat.address is not None:
                    self._index_drop("address", str(beat.address), name)
            return
        if kind.model is Machine:
            # Only the operator's fields are journalled: a report written since keeps its facts.
            with self.machine_lock([name]):
                current = self.find(Machine, name)
                if current is None:
                    return  # nothing to enrol any more: the machine was never (re)created
                operator = decode(Machine, {**encode(current), **op["data"]}, "journal", error=InvalidState)
                self._write(replace(current, **{f: getattr(operator, f) for f in Machine.OPERATOR_FIELDS}))
            return
        if obj is None:
            obj = decode(kind.model, op["data"], "journal", error=InvalidState)
        self._write(obj)

    def _commit(self, ops: list[dict[str, Any]], objects: list[Any] | None = None) -> None:
        """Apply ``ops`` (journalled first when there are several). ``objects``: what each op was encoded from
        (None for a delete), so that a network of a thousand allocations is not decoded back from its op."""
        if not ops:
            return
        given = objects if objects is not None and len(objects) == len(ops) else [None] * len(ops)
        if len(ops) == 1:
            self._apply(ops[0], given[0])
            return
        journal = self._journal_path()
        files.atomic_write(journal, files.dump_yaml({"version": 1, "ops": ops}).encode(), mode=0o600)
        for op, obj in zip(ops, given, strict=True):
            self._apply(op, obj)
        files.remove(journal)

    def _recover(self) -> None:
        raw = files.read_bytes(self._journal_path())
        if raw is None:
            return
        try:
            journal = files.load_yaml(raw)
            ops = journal["ops"]
        except Exception:  # the journal itself is written atomically, so this means a hand-edit
            raise InvalidState("journal.yaml is unreadable", hint="inspect and remove it by hand") from None
        for op in ops:
            self._apply(op)
        files.remove(self._journal_path())
        self.remove_stale_temp_files()  # a journal to replay means a crash, which may have left temp files too


_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


def _mac_key(mac: str) -> str | None:
    """An index file's name for a MAC (colons are fine in a name, but dashes read better in a listing)."""
    return mac.replace(":", "-") if _MAC.fullmatch(mac) else None


def _macs(machine: Machine | None) -> set[str]:
    keys = (_mac_key(nic.mac) for nic in machine.hardware.nics) if machine is not None else ()
    return {key for key in keys if key is not None}


def _heartbeat_from_json(raw: bytes) -> Heartbeat:
    """Fast decoding of a heartbeat as written by ``write_heartbeat``; anything else raises."""
    data = json.loads(raw)
    if set(data) - {"last_seen", "reports", "hardware_digest", "address", "counted"}:
        raise KeyError("unknown key")
    reports, digest, address, counted = data["reports"], data["hardware_digest"], data.get("address"), data.get("counted", 0)
    if type(reports) is not int or type(digest) is not str or type(counted) is not int:
        raise TypeError("bad type")
    when = datetime.fromisoformat(data["last_seen"].replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError("naive timestamp")
    return Heartbeat(when, reports, digest, IPv4Address(address) if address is not None else None, counted)


class Transaction:
    """A set of writes and deletes applied together: all of them, even across a crash, or none.

    With more than one change, the new contents are first written to ``journal.yaml``; a crash while the
    files are being replaced leaves the journal, which the next holder of the topology lock replays.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._ops: dict[tuple[str, str], dict[str, Any]] = {}
        self._objects: dict[tuple[str, str], tuple[type, Any]] = {}  # the new objects (None: deleted), for recording

    def put(self, obj: Any) -> None:
        kind = KINDS[type(obj)]
        name = kind.key(obj)
        data = encode(obj)
        if kind.model is Machine:
            self._store._require_machine(name)
            data = {f: data[f] for f in Machine.OPERATOR_FIELDS if f in data}
            data.setdefault("settings", {})
            if "enrolment" not in data:
                data["enrolment"] = None
        self._ops[(kind.directory, name)] = {"op": "put", "kind": kind.directory, "name": name, "data": data}
        self._objects[(kind.directory, name)] = (kind.model, obj)

    def delete(self, model: type, name: str) -> None:
        kind = KINDS[model]
        kind.validate(name)
        if model is Machine:
            self._store._require_machine(name)
        self._ops[(kind.directory, name)] = {"op": "delete", "kind": kind.directory, "name": name}
        self._objects[(kind.directory, name)] = (model, None)

    def commit(self) -> None:
        store = self._store
        recording = store.recording_changes()
        before = {key: store.find(model, key[1]) for key, (model, _) in self._objects.items()} if recording else {}
        store._commit(list(self._ops.values()), [obj for _, obj in self._objects.values()])
        if recording:
            for key, (_, after) in self._objects.items():
                store._record(before[key], after)
        self._ops.clear()
        self._objects.clear()


def hardware_digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


__all__ = ["KINDS", "OciError", "Store", "Transaction", "hardware_digest"]
