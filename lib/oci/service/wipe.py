"""``machine-wipe``: erase a live machine's disks through its live image (docs/lifecycle.md), before it is
reused, given back, or enrolled again from scratch.

Only a live machine in no cluster, only with ``confirm``: what it erases cannot be had back. The script comes
from the template ``wipe-disks.sh.j2`` (the disks and their sizes from the machine's report), and goes to the
node on the standard input of ``sh -s`` over the master's checked SSH channel (docs/security.md)."""

from __future__ import annotations

import re
from typing import Any

from oci import remote, templates
from oci.errors import Conflict, InvalidInput
from oci.model import Machine, MachineStatus
from oci.service.machines import resolve
from oci.store import Store

EDGE_MIB = 100  # what is overwritten at each end of a disk: partition tables, RAID superblocks, file system headers
WIPE_TIMEOUT = 3600.0  # a guard: discards and the zeros of every disk
MIB = 1 << 20
# A disk's kernel name, as the report gives it; anything else never reaches the script.
_DISK = re.compile(r"[a-z][a-z0-9_-]{0,31}")


def disks(machine: Machine) -> list[dict[str, Any]]:
    """The disks a wipe erases: every disk the machine reported, USB ones apart, with its device and size."""
    found = []
    for disk in machine.hardware.disks:
        if disk.transport == "usb":
            continue
        device = disk.realdev or disk.name
        if not _DISK.fullmatch(device):
            raise InvalidInput(f"disk {device!r} of {machine.serial} is not a plain device name: not wiped", hint="see machine-blk")
        found.append({"path": f"/dev/{device}", "bytes": disk.size_bytes, "mib": disk.size_bytes // MIB})
    if not found:
        raise Conflict(f"machine {machine.serial} reported no disk to wipe")
    return found


def script(serial: str, erased: list[dict[str, Any]], chosen: templates.Templates) -> str:
    """The wipe script of ``erased`` (``disks``' answer), from the template ``wipe-disks.sh.j2``."""
    return chosen.render("wipe-disks.sh.j2", {"serial": serial, "disks": erased, "edge_mib": EDGE_MIB})


def wipe(store: Store, ident: str, confirm: bool = False) -> dict[str, Any]:
    serial = resolve(store, ident)
    machine = store.get(Machine, serial)
    if machine.enrolment is not None:
        raise Conflict(f"machine {serial} is enrolled as {machine.enrolment.hostname}: not wiped", hint=f"machine-remove {serial} first")
    if machine.status is not MachineStatus.LIVE:
        raise Conflict(f"machine {serial} is {machine.status.value}, not live: its disks are wiped from the live image")
    erased = disks(machine)
    if not confirm:
        shown = " ".join(d["path"] for d in erased)
        raise InvalidInput(f"machine-wipe erases every disk of {serial} for good ({shown}): confirm it", hint="add --yes")
    text = script(serial, erased, templates.load(store.config.templates_dir))
    output = remote.run_on(store, remote.node_of(store, serial), ["sh", "-s"], timeout=WIPE_TIMEOUT, stdin=text.encode())
    return {"serial": serial, "output": output.strip().splitlines()}
