"""Automatic BMC numbering: a network of role ``ipmi`` gives every machine that reports from the live image
a BMC address of its own, a user and a generated password; the agent applies them in-band.

The flow, one report at a time (reference §10.2, without its SSH round trip from the master):

1. A machine in ``live`` reports from an address an ``ipmi`` network matches (``--ipmi-match``), or the
   operator enrolled it and an ``ipmi`` network without a match exists. It has no BMC access yet: the
   lowest free address of that network is allocated to it (kind ``ipmi``) and ``bmc/<serial>.yaml``
   records address, netmask, gateway, VLAN, user and a new password, ``pending``. One source address
   gets one pending numbering at a time, so a host inventing serials cannot drain the pool; a full pool
   is logged and leaves the report accepted (it is not the report's fault).
2. While pending, the reply to each of the machine's reports carries the settings; the agent runs
   ``ipmitool`` on the node (the one place where the node's own ipmitool is right).
3. The next report shows the BMC at the new address: pending is cleared and the reply carries nothing,
   ever again.

A BMC the operator set by hand (``machine-set-ipmi``) is never renumbered. The settings go only in the
reply to a report of the machine, in the live image, from one of its own addresses (docs/security.md,
"Node trust"), while pending: the provisioning network is trusted with them as it is trusted with the boot
itself (docs/bmc.md).
"""

from __future__ import annotations

import logging
import secrets
import string
from dataclasses import replace
from ipaddress import IPv4Address
from typing import Any

from oci import ipam
from oci.errors import Conflict, OciError
from oci.model import AllocationKind, BmcAccess, Machine, MachineStatus, Network, NetworkRole
from oci.service import identity
from oci.store import Store

LOG = logging.getLogger("oci.bmc")
# IPMI 1.5 BMCs take at most 16 characters; letters and digits pass every vendor's password rules.
PASSWORD_LENGTH = 16
_ALPHABET = string.ascii_letters + string.digits
PENDING = "bmc-pending"  # <state>/bmc-pending/<address>: the machine last numbered from that address


def new_password() -> str:
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))
        # Some BMCs demand a mix of classes; a password of one class is simply drawn again.
        if any(c.islower() for c in password) and any(c.isupper() for c in password) and any(c.isdigit() for c in password):
            return password


def pool_for(networks: list[Network], source: IPv4Address | None, enrolled: bool = False) -> Network | None:
    """The ``ipmi`` network that numbers BMCs of machines reporting from ``source``: the narrowest match wins.
    A network without a match numbers only machines the operator enrolled (accepted); with one, any machine
    reporting from inside it."""
    candidates = [
        n
        for n in networks
        if n.role == NetworkRole.IPMI.value and (enrolled if n.ipmi_match is None else source is not None and source in n.ipmi_match)
    ]
    candidates.sort(key=lambda n: (-(n.ipmi_match.prefixlen if n.ipmi_match else -1), n.name))
    return candidates[0] if candidates else None


def instruction(store: Store, access: BmcAccess) -> dict[str, Any]:
    """What the agent applies: the BMC's LAN settings and its OCI user (with the password)."""
    cfg = store.config
    return {
        "channel": cfg.bmc_auto_channel,
        "user_id": cfg.bmc_auto_user_id,
        "user": access.user,
        "password": access.password,
        "address": access.address,
        "netmask": str(access.netmask) if access.netmask else None,
        "gateway": str(access.gateway) if access.gateway else None,
        "vlan": access.vlan,
    }


def after_report(store: Store, serial: str, source: IPv4Address | None, reported: IPv4Address | None) -> dict[str, Any] | None:
    """Number, confirm or leave alone the BMC of a machine that just reported; the agent's instruction, if any.

    Cheap when there is nothing to do (one cached file lookup, and the networks the report intake already
    read); the topology lock is taken only to allocate or to confirm, once per machine.
    """
    access = store.find(BmcAccess, serial)
    if access is not None and (access.network is None or not access.pending):
        return None  # set by the operator, or numbered and confirmed
    if access is not None:
        if reported is not None and str(reported) == access.address:
            _confirm(store, serial, source)
            return None
        return instruction(store, access) if _in_live(store, serial) and _own(store, serial, source) else None
    machine = store.find(Machine, serial)
    if machine is None or machine.status is not MachineStatus.LIVE:
        return None
    pool = pool_for(store.all(Network), source, enrolled=machine.enrolment is not None)
    # Cheapest first: most sites have no pool for most reports.
    if pool is None or not _own(store, serial, source) or _pending_from(store, source, serial) is not None:
        return None  # (the pending check is made again under the lock)
    return _number(store, serial, pool.name, source)


def _in_live(store: Store, serial: str) -> bool:
    machine = store.find(Machine, serial)
    return machine is not None and machine.status is MachineStatus.LIVE


def _own(store: Store, serial: str, source: IPv4Address | None) -> bool:
    """Is ``source`` one of the machine's own addresses? The report was accepted, so it should be; checked
    again here because the reply carries a password (docs/security.md)."""
    return source is not None and source in identity.own_addresses(store, serial)


def _pending_from(store: Store, source: IPv4Address | None, serial: str) -> str | None:
    """Another machine numbered from ``source`` whose BMC numbering is still pending, if any.

    ``bmc-pending/<address>`` names the last machine numbered from that address: one small file read per
    report of a machine without a BMC yet, where scanning every BMC file and heartbeat made numbering a
    thousand machines quadratic. A stale name (confirmed, set by hand, destroyed) blocks nothing."""
    if source is None:
        return None
    raw = store.read_blob(PENDING, str(source))
    other = raw.decode(errors="replace").strip() if raw else ""
    if not other or other == serial:
        return None
    try:
        access = store.find(BmcAccess, other)
    except OciError:  # a hand-edited file: it names no machine we can trust
        return None
    return other if access is not None and access.pending else None


def _number(store: Store, serial: str, pool_name: str, source: IPv4Address | None) -> dict[str, Any] | None:
    with store.topology_lock():
        if store.find(BmcAccess, serial) is not None:  # another report of the same machine won the race
            access = store.get(BmcAccess, serial)
            return instruction(store, access) if access.pending else None
        network = store.find(Network, pool_name)
        if network is None or network.role != NetworkRole.IPMI.value:
            return None
        other = _pending_from(store, source, serial)
        if other is not None:
            LOG.warning("BMC of %s not numbered: %s, reporting from the same address %s, still has one pending", serial, other, source)
            return None
        try:
            network, address = ipam.allocate(network, AllocationKind.IPMI, serial)
        except Conflict as exc:  # a full pool is the operator's to widen, not an error of the report
            LOG.warning("BMC of %s not numbered: %s", serial, exc.message)
            return None
        access = BmcAccess(
            serial=serial,
            use=True,
            address=str(address),
            user=store.config.bmc_auto_user,
            password=new_password(),
            network=network.name,
            netmask=network.subnet.netmask,
            gateway=ipam.gateway(network),
            vlan=network.vlan,
            pending=True,
        )
        tx = store.transaction()
        tx.put(network)
        tx.put(access)
        tx.commit()
        if source is not None:
            # Not durable: losing it to a power cut lets that source have one more numbering, nothing worse.
            store.write_blob(PENDING, str(source), data=serial.encode() + b"\n", durable=False)
    LOG.info("BMC of %s numbered %s on network %s; waiting for the agent to apply it", serial, address, network.name)
    return instruction(store, access)


def _confirm(store: Store, serial: str, source: IPv4Address | None) -> None:
    with store.topology_lock():
        access = store.find(BmcAccess, serial)
        if access is not None and access.pending:
            tx = store.transaction()
            tx.put(replace(access, pending=False))
            tx.commit()
            if source is not None and (store.read_blob(PENDING, str(source)) or b"").strip() == serial.encode():
                store.remove_blob(PENDING, str(source))
            LOG.info("BMC of %s answers at %s", serial, access.address)


def release(store: Store, serial: str) -> list[Network]:
    """The networks holding ``serial``'s BMC address, without it (for the caller's transaction)."""
    return [ipam.release(n, AllocationKind.IPMI, serial) for n in store.all(Network) if ipam.addresses_of(n, AllocationKind.IPMI, serial)]


def assign_check(store: Store, show_all: bool = False) -> list[dict[str, Any]]:
    """``ipmi-assign-check``: machines whose BMC, as the live image last saw it, is not where OCI says."""
    rows = []
    for access in store.all(BmcAccess):
        machine = store.find(Machine, access.serial)
        bmc = machine.hardware.bmc if machine else None
        reported = str(bmc.address) if bmc and bmc.address else None
        if reported == access.address and not access.pending:
            state = "ok"
        elif access.pending:
            state = "pending"
        elif reported is None:
            state = "not reported"
        else:
            state = "differs"
        if show_all or state != "ok":
            rows.append(
                {
                    "serial": access.serial,
                    "hostname": machine.enrolment.hostname if machine and machine.enrolment else None,
                    "assigned": access.address,
                    "reported": reported,
                    "network": access.network,
                    "state": state,
                }
            )
    return rows
