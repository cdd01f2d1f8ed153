"""Hardware RAID: the system disk as a logical drive of the machine's RAID controller, built before the install.

Each vendor's tool is behind one interface (``RaidTool``): the command that lists a controller's drives, a
parser of its output into ``Controller``, and the commands that clear the controller and create the logical
drive. Choosing the drives (``choose``) and the order of the commands (``commands``) are common and pure.
The tools (Broadcom's ``storcli64`` for MegaRAID and Dell PERC, HPE's ``ssacli`` for Smart Array) are not free
software and no controller runs here: the parsers are tested on the tools' output in their published formats
(tests/data/hwraid/: storcli's JSON and ssacli's text, written after public examples, not captured on our own
hardware), as the discovery parsers are tested on captured output, and the commands on what they would run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from oci.errors import Conflict, InvalidInput

# What each level takes: (fewest drives, most drives, even count only).
LEVELS: dict[str, tuple[int, int, bool]] = {"0": (1, 32, False), "1": (2, 2, False), "5": (3, 32, False), "6": (4, 32, False),
                                           "10": (4, 32, True)}  # fmt: skip
DRIVE_KINDS = ("any", "ssd", "hdd")
LOGICAL_DRIVE_NAME = "oci-system"


@dataclass(frozen=True)
class PhysicalDrive:
    id: str  # how the tool names it: 32:2 (enclosure:slot), 1I:1:3 (port:box:bay)
    size: str  # as the tool says it ("446.625 GB", "1.2 TB"): drives of one logical drive have the same
    kind: str  # ssd or hdd
    interface: str  # SAS, SATA, NVMe
    usable: bool  # healthy: unconfigured, or part of a logical drive that the plan deletes
    configured: bool  # part of a logical drive now


@dataclass(frozen=True)
class Controller:
    tool: str  # RaidTool.name
    slot: str  # the tool's controller number or slot
    model: str
    drives: tuple[PhysicalDrive, ...]
    logical_drives: int

    def __str__(self) -> str:
        return f"{self.model} (controller {self.slot})"


@dataclass(frozen=True)
class RaidPlan:
    level: str  # a key of LEVELS
    drives: int
    kind: str = "any"  # ssd, hdd or any

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise InvalidInput(f"invalid hardware RAID level {self.level!r}: expected one of {', '.join(LEVELS)}")
        if self.kind not in DRIVE_KINDS:
            raise InvalidInput(f"invalid hardware RAID drive kind {self.kind!r}: expected one of {', '.join(DRIVE_KINDS)}")
        fewest, most, even = LEVELS[self.level]
        if not fewest <= self.drives <= most or (even and self.drives % 2):
            takes = f"{fewest}" if fewest == most else f"{fewest} to {most}" + (", an even number," if even else "")
            raise InvalidInput(f"hardware RAID {self.level} takes {takes} drives, not {self.drives}")


class RaidTool(Protocol):
    name: str
    program: str  # the vendor tool's command, looked up on the node

    def inventory_argv(self) -> list[str]: ...

    def parse(self, output: str) -> list[Controller]: ...

    def clear_argv(self, controller: Controller) -> list[str]: ...

    def create_argv(self, controller: Controller, drives: Sequence[PhysicalDrive], level: str) -> list[str]: ...


class ToolOutputError(InvalidInput):
    """The tool's output is not what the parser knows: never a guess at which drives to use."""


class StorCli:
    """Broadcom MegaRAID (and Dell PERC, whose ``perccli64`` takes the same commands): ``storcli64 /c0 show J``."""

    name = "megaraid"
    program = "storcli64"

    def inventory_argv(self) -> list[str]:
        return [self.program, "/call", "show", "J"]

    def parse(self, output: str) -> list[Controller]:
        try:
            document = json.loads(output)
            controllers = []
            for entry in document["Controllers"]:
                status = entry["Command Status"]
                if status.get("Status") != "Success":
                    raise ToolOutputError(f"{self.program}: controller {status.get('Controller')}: {status.get('Description')}")
                data = entry["Response Data"]
                drives = tuple(self._drive(pd) for pd in data.get("PD LIST", []))
                controllers.append(Controller(self.name, str(status["Controller"]), data["Product Name"].strip(), drives,
                                              int(data.get("Virtual Drives", 0))))  # fmt: skip
            if not controllers:
                raise ToolOutputError(f"{self.program}'s output names no controller")
            return controllers
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ToolOutputError(f"{self.program}'s output is not a controller listing ({type(exc).__name__}: {exc})") from None

    @staticmethod
    def _drive(pd: dict[str, object]) -> PhysicalDrive:
        state = str(pd["State"])
        # Onln: in a drive group (the plan deletes the logical drives first); UGood: unconfigured and good.
        # Anything else (UBad, Offln, Rbld, a hot spare, a JBOD) is left alone.
        kind = str(pd["Med"]).strip().lower()  # SSD, HDD
        usable, configured = state in ("Onln", "UGood"), state == "Onln"
        return PhysicalDrive(str(pd["EID:Slt"]), str(pd["Size"]), kind, str(pd["Intf"]).strip(), usable, configured)

    def clear_argv(self, controller: Controller) -> list[str]:
        return [self.program, f"/c{controller.slot}/vall", "del", "force"]

    def create_argv(self, controller: Controller, drives: Sequence[PhysicalDrive], level: str) -> list[str]:
        argv = [self.program, f"/c{controller.slot}", "add", "vd", f"type=raid{level}", f"name={LOGICAL_DRIVE_NAME}",
                "drives=" + ",".join(d.id for d in drives)]  # fmt: skip
        if level == "10":
            argv.append("pdperarray=2")  # RAID 10 as mirrored pairs, striped
        return argv


class SsaCli:
    """HPE Smart Array: ``ssacli ctrl all show config``."""

    name = "hpe"
    program = "ssacli"
    _CONTROLLER = re.compile(r"^\S.* in Slot (\S+)")
    _ARRAY = re.compile(r"^\s+(Array \S+|Unassigned)")
    _LOGICAL = re.compile(r"^\s+logicaldrive \d+ \(")
    _PHYSICAL = re.compile(r"^\s+physicaldrive (\S+) \(port [^,]*, (\S+) (SSD|HDD), ([\d.]+ [KMGT]B), ([^)]*)\)")

    def inventory_argv(self) -> list[str]:
        return [self.program, "ctrl", "all", "show", "config"]

    def parse(self, output: str) -> list[Controller]:
        controllers: list[Controller] = []
        heading: tuple[str, str] | None = None  # (slot, model) of the controller being read
        drives: list[PhysicalDrive] = []
        logical_drives, group = 0, ""
        for line in [*output.splitlines(), "\0"]:  # "\0": the end (no line of text holds one)
            match = self._CONTROLLER.match(line)
            if (match or line == "\0") and heading is not None:
                controllers.append(Controller(self.name, heading[0], heading[1], tuple(drives), logical_drives))
            if match:
                heading, drives, logical_drives, group = (match[1], line[: line.index(" in Slot ")].strip()), [], 0, ""
            elif heading is None:
                continue
            elif match := self._ARRAY.match(line):
                group = match[1]
            elif self._LOGICAL.match(line):
                logical_drives += 1
            elif match := self._PHYSICAL.match(line):
                drive_id, interface, medium, size, status = match.groups()
                drives.append(PhysicalDrive(drive_id, size, medium.lower(), interface, status == "OK", group.startswith("Array")))
            elif line.strip().startswith("physicaldrive"):
                raise ToolOutputError(f"{self.program}: a drive line this parser does not know: {line.strip()[:80]!r}")
        if not controllers:
            raise ToolOutputError(f"{self.program}'s output names no controller")
        return controllers

    def clear_argv(self, controller: Controller) -> list[str]:
        return [self.program, "ctrl", f"slot={controller.slot}", "ld", "all", "delete", "forced"]

    def create_argv(self, controller: Controller, drives: Sequence[PhysicalDrive], level: str) -> list[str]:
        raid = "1+0" if level == "10" else level
        return [self.program, "ctrl", f"slot={controller.slot}", "create", "type=ld", "drives=" + ",".join(d.id for d in drives),
                f"raid={raid}", "forced"]  # fmt: skip


TOOLS: dict[str, RaidTool] = {tool.name: tool for tool in (StorCli(), SsaCli())}


def choose(controller: Controller, plan: RaidPlan) -> tuple[PhysicalDrive, ...]:
    """The drives of the logical drive: the first ``plan.drives`` usable drives of the plan's kind, in the
    tool's order, all of one size (the first size that has enough of them)."""
    candidates = [d for d in controller.drives if d.usable and plan.kind in ("any", d.kind)]
    for size in dict.fromkeys(d.size for d in candidates):
        same = [d for d in candidates if d.size == size]
        if len(same) >= plan.drives:
            return tuple(same[: plan.drives])
    kind = "" if plan.kind == "any" else f"{plan.kind} "
    most = max((sum(d.size == s for d in candidates) for s in {d.size for d in candidates}), default=0)
    raise Conflict(f"{controller}: RAID {plan.level} needs {plan.drives} healthy {kind}drives of one size; it has {most}")


def commands(controller: Controller, plan: RaidPlan) -> list[list[str]]:
    """What builds the plan on the controller: its logical drives deleted (the install erases the machine's
    disks anyway), then the system's logical drive created."""
    tool = TOOLS[controller.tool]
    drives = choose(controller, plan)
    out = [tool.clear_argv(controller)] if controller.logical_drives else []
    return [*out, tool.create_argv(controller, drives, plan.level)]
