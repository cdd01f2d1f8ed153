"""A machine, keyed by its chassis serial, and its heartbeat."""

from __future__ import annotations

import re
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
    """One line of a machine's history: a status it reached, when, the address it reported from, and what
    else is worth a line (``install failed at partition: ...``)."""

    status: str  # a MachineStatus or Phase value (bootinglive comes from OCI itself)
    at: datetime
    address: IPv4Address | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        if self.detail is not None and len(self.detail) > MAX_DETAIL_LENGTH:
            raise ValueError(f"detail: longer than {MAX_DETAIL_LENGTH} characters")


HISTORY_LENGTH = 100
# Bounds of what a node's status reports can make a machine file hold: oci-install has 13 steps, its error
# line is at most 300 characters (docs/agent.md); a detail is "install failed at <step>: <error>".
STEP_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
MAX_INSTALL_STEPS = 40
HOST_KEY = re.compile(r"ssh-ed25519 [A-Za-z0-9+/]{68}")  # a public key line without its comment
MAX_ERROR_LENGTH = 300
MAX_DETAIL_LENGTH = 400


@dataclass(frozen=True, slots=True)
class InstallStep:
    """One step of an install as the node reported it: when it started (the master's clock) and how long it
    took (the node's measure; None while it runs, or when it failed)."""

    name: str
    started: datetime
    seconds: float | None = None

    def __post_init__(self) -> None:
        if not STEP_NAME.fullmatch(self.name):
            raise ValueError(f"invalid step name {self.name[:40]!r}")
        if self.seconds is not None and self.seconds < 0:
            raise ValueError("seconds: negative")


@dataclass(frozen=True, slots=True)
class InstallRecord:
    """The latest install of a machine (``oci-install``'s steps): a new install starts a new record.

    ``finished`` is when the installer stopped: its last step done (the node reported ``firstboot``) or a
    step failed (``failed_step`` and ``error`` then say which and why).
    """

    started: datetime
    steps: tuple[InstallStep, ...] = ()
    failed_step: str | None = None
    error: str | None = None
    finished: datetime | None = None
    # The ed25519 host key the install's bundle carries (certified by the cluster's host CA): the machine's
    # host_key once the installed system reports ``installed``.
    host_key: str | None = None

    def __post_init__(self) -> None:
        if self.host_key is not None and not HOST_KEY.fullmatch(self.host_key):
            raise ValueError("host_key: not an ssh-ed25519 public key")
        if len(self.steps) > MAX_INSTALL_STEPS:
            raise ValueError(f"steps: more than {MAX_INSTALL_STEPS}")
        if self.error is not None and len(self.error) > MAX_ERROR_LENGTH:
            raise ValueError(f"error: longer than {MAX_ERROR_LENGTH} characters")
        if self.failed_step is not None and not STEP_NAME.fullmatch(self.failed_step):
            raise ValueError(f"invalid failed step name {self.failed_step[:40]!r}")

    @property
    def failed(self) -> bool:
        return self.error is not None


MAX_FAILED_RESOURCES = 20  # names kept from one Puppet run; the count says how many failed in all
MAX_RESOURCE_LENGTH = 200


class PuppetResult(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class PuppetRun:
    """The latest Puppet run of a machine, from the report the Puppet server forwards (docs/puppet-runs.md):
    when it ran (the report's time), how long it took, its result, how many resources it changed and how many
    failed (the first MAX_FAILED_RESOURCES names kept), and its first error line."""

    at: datetime
    seconds: float
    result: PuppetResult
    changed: int = 0
    failed: int = 0
    failed_resources: tuple[str, ...] = ()
    error: str | None = None

    def __post_init__(self) -> None:
        if self.seconds < 0 or self.changed < 0 or self.failed < 0:
            raise ValueError("seconds, changed, failed: negative")
        if len(self.failed_resources) > MAX_FAILED_RESOURCES:
            raise ValueError(f"failed_resources: more than {MAX_FAILED_RESOURCES}")
        if any(not name or len(name) > MAX_RESOURCE_LENGTH or "\n" in name for name in self.failed_resources):
            raise ValueError(f"failed_resources: a name is empty, longer than {MAX_RESOURCE_LENGTH} or not one line")
        if self.error is not None and (len(self.error) > MAX_ERROR_LENGTH or "\n" in self.error or not self.error.strip()):
            raise ValueError(f"error: not one line of at most {MAX_ERROR_LENGTH} characters")


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
    install: InstallRecord | None = None  # the latest install's steps (docs/state.md)
    puppet_run: PuppetRun | None = None  # the latest Puppet run (docs/puppet-runs.md)

    def __post_init__(self) -> None:
        names.serial(self.serial)
        check_values(MACHINE_SETTINGS, self.settings)

    def reached(self, status: str, at: datetime, address: IPv4Address | None = None, detail: str | None = None) -> tuple[PhaseChange, ...]:
        """The history with ``status`` appended, unless it is already the latest (a repeated report) and
        there is no new ``detail`` to tell."""
        if self.history and self.history[-1].status == status and detail in (None, self.history[-1].detail):
            return self.history
        return (*self.history, PhaseChange(status, at, address, detail))[-HISTORY_LENGTH:]

    # Fields the operator owns; the journal replays only these onto the current file (store/journal.py).
    OPERATOR_FIELDS = ("enrolment", "settings")


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """``seen/<serial>.yaml``: rewritten by every report, so kept apart from the machine file."""

    last_seen: datetime
    reports: int  # number of reports received, the first one included
    hardware_digest: str  # digest of the hardware last applied to machines/<serial>.yaml ('' forces a full update)
    address: IPv4Address | None = None  # source of the latest report (the live image's DHCP address); None if not IPv4
    # Reports counted for the automation (docs/automation.md): since the hardware last changed, or since
    # machine-report-counter-reset. An automatic step runs when the count reaches its threshold.
    counted: int = 0


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
