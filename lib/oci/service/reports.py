"""Report intake: create or update a machine from a hardware report."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from ipaddress import IPv4Address
from typing import Any

from oci.enc import refresh as enc
from oci.model import Heartbeat, Machine, MachineStatus, PhaseChange
from oci.model.codec import encode
from oci.report.v1 import ParsedReport
from oci.service import bmcauto
from oci.store import Store, hardware_digest


@enc.follows  # a new disk list of an enrolled machine is in its classification
def record(store: Store, report: ParsedReport, address: IPv4Address | None, now: datetime, bmc: bool = False) -> dict[str, Any]:
    """Apply a report; returns what happened (``created``, ``updated`` or ``seen``), and with ``bmc`` (an
    agent that can apply them) the BMC settings the agent must apply, when OCI numbers the BMC.

    A steady-state report (same hardware as last time) rewrites only the small heartbeat file; the machine
    file is rewritten only when its hardware or status changes. The machine file is written before the
    heartbeat, whose digest says what the machine file holds: after a crash between the two writes, the
    next report sees a stale digest and takes the full path again.
    """
    result = _record(store, report, address, now)
    if bmc:
        reported = report.hardware.bmc.address if report.hardware.bmc else None
        settings = bmcauto.after_report(store, report.serial, address, reported)
        if settings is not None:
            result["bmc"] = settings
    return result


def _record(store: Store, report: ParsedReport, address: IPv4Address | None, now: datetime) -> dict[str, Any]:
    digest = hardware_digest([encode(report.hardware), list(report.notes), report.serial_source])
    serial = report.serial
    with store.machine_lock([serial]):
        beat = store.heartbeat(serial)
        reports = (beat.reports if beat else 0) + 1
        counted = (beat.counted if beat else 0) + 1
        if beat is not None and beat.hardware_digest == digest and store.exists_machine(serial):
            store.write_heartbeat(serial, Heartbeat(now, reports, digest, address, counted))
            return {"serial": serial, "result": "seen", "notes": list(report.notes)}
        machine = store.find(Machine, serial)
        if machine is None:
            result = "created"
            machine = Machine(
                serial=serial,
                status=MachineStatus.LIVE,
                first_seen=now,
                hardware=report.hardware,
                report_notes=report.notes,
                serial_source=report.serial_source,
                history=(PhaseChange(MachineStatus.LIVE.value, now, address),),
            )
        else:
            result = "updated"
            if machine.hardware != report.hardware:  # new hardware: the automation counts its reports anew
                counted = 1
            # A machine OCI sent to the live image has arrived; other statuses are left alone, since the
            # agent keeps reporting while the node installs itself from the live image.
            status = MachineStatus.LIVE if machine.status is MachineStatus.BOOTINGLIVE else machine.status
            machine = replace(
                machine,
                hardware=report.hardware,
                report_notes=report.notes,
                serial_source=report.serial_source,
                status=status,
                history=machine.reached(status.value, now, address),
            )
        store.write_machine(machine)
        store.write_heartbeat(serial, Heartbeat(now, reports, digest, address, counted))
    return {"serial": serial, "result": result, "notes": list(report.notes)}
