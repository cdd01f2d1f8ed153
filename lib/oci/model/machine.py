"""A machine, keyed by its chassis serial, and its heartbeat."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from ipaddress import IPv4Address

from oci import names
from oci.model.hardware import Hardware
from oci.model.settings import MACHINE_SETTINGS, Value, check_values


class MachineStatus(StrEnum):
    LIVE = "live"  # running the discovery live image
    BOOTINGLIVE = "bootinglive"  # OCI asked it to PXE-boot into the live image
    INSTALLING = "installing"
    FIRSTBOOT = "firstboot"
    INSTALLED = "installed"


class PuppetStatus(StrEnum):
    NOTRUN = "notrun"
    RUNNING = "running"
    SUCCESS = "success"
    FAILURE = "failure"


class Phase(StrEnum):
    """What a node says of itself (``oci-report-status``)."""

    LIVE = "live"
    INSTALLING = "installing"
    FIRSTBOOT = "firstboot"
    INSTALLED = "installed"
    PUPPET_RUNNING = "puppet-running"
    PUPPET_SUCCESS = "puppet-success"
    PUPPET_FAILURE = "puppet-failure"


@dataclass(frozen=True, slots=True)
class PhaseChange:
    """One line of a machine's history: a status it reached, when, and the address it reported from."""

    status: str  # a MachineStatus or Phase value (bootinglive comes from OCI itself)
    at: datetime
    address: IPv4Address | None = None


HISTORY_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Enrolment:
    """Where an operator put the machine (``machine-add``)."""

    cluster: str
    role: str
    location: str
    hostname: str

    def __post_init__(self) -> None:
        names.cluster(self.cluster)
        names.role(self.role)
        names.location(self.location)
        names.hostname(self.hostname)

    @property
    def short_hostname(self) -> str:
        return self.hostname.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class Machine:
    """``machines/<serial>.yaml``.

    Two owners write this file: the node (through reports: ``status``, ``hardware``, ``report_notes``) and the
    operator (``enrolment``, ``settings``). Both read-modify-write it under the machine's lock; see
    docs/state.md for why the fast-changing facts (last seen, report count) live in ``seen/<serial>.yaml``.
    """

    serial: str
    status: MachineStatus
    first_seen: datetime
    hardware: Hardware = field(default_factory=Hardware)
    report_notes: tuple[str, ...] = ()  # entries of the latest report that were skipped, and why
    serial_source: str | None = None  # system, chassis, baseboard (DMI), mac (fallback), assigned (PoC)
    puppet_status: PuppetStatus = PuppetStatus.NOTRUN
    enrolment: Enrolment | None = None
    settings: dict[str, Value] = field(default_factory=dict)
    history: tuple[PhaseChange, ...] = ()  # oldest first, the last HISTORY_LENGTH changes
    # The ed25519 host key OCI last certified for this node (POST /api/v1/ssh/host-key): a request signed with
    # its private half proves the node's identity from any address (docs/security.md, "Node trust").
    host_key: str | None = None

    def __post_init__(self) -> None:
        names.serial(self.serial)
        check_values(MACHINE_SETTINGS, self.settings)

    def reached(self, status: str, at: datetime, address: IPv4Address | None = None) -> tuple[PhaseChange, ...]:
        """The history with ``status`` appended, unless it is already the latest (a repeated report)."""
        if self.history and self.history[-1].status == status:
            return self.history
        return (*self.history, PhaseChange(status, at, address))[-HISTORY_LENGTH:]

    # Fields the operator owns; the journal replays only these onto the current file (store/journal.py).
    OPERATOR_FIELDS = ("enrolment", "settings")


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``seen/<serial>.yaml``: rewritten by every report, so kept apart from the machine file."""

    last_seen: datetime
    reports: int  # number of reports received, the first one included
    hardware_digest: str  # digest of the hardware last applied to machines/<serial>.yaml ('' forces a full update)
    address: IPv4Address | None = None  # source of the latest report (the live image's DHCP address); None if not IPv4


@dataclass(frozen=True, slots=True)
class AddressConflict:
    """``conflicts/<serial>.json``: a request for a known machine from an address that is not its own, refused.

    One entry per (address, route): a source that keeps trying bumps ``count`` and ``last`` and does not push
    other entries out of the capped list.
    """

    address: str  # as the server saw it (REMOTE_ADDR); a string, since it may be IPv6
    route: str  # report, status, host-key
    first: datetime
    last: datetime
    count: int = 1
