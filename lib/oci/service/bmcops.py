"""Power and boot actions on machines through their BMC, and the machine status that follows them."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from oci import remote, values
from oci.bmc import Policy, PyghmiBmc, Target, attach_console
from oci.errors import Conflict, InvalidInput, OciError
from oci.model import BmcAccess, Machine, MachineStatus
from oci.remote import NodeUnreachable
from oci.run import CommandError
from oci.service import bmcauto
from oci.service.machines import resolve
from oci.store import Store

MAX_BMC_USER, MAX_BMC_PASSWORD = 16, 20  # IPMI 2.0 (a 1.5 BMC takes 16-byte passwords: it refuses longer ones itself)
VERBS = ("power-status", "power-on", "power-off", "power-cycle", "power-reset", "power-soft", "boot-pxe", "boot-disk", "info")


def _policy(store: Store) -> Policy:
    cfg = store.config
    return Policy(timeout=cfg.bmc_timeout, retries=cfg.bmc_retries, min_interval=cfg.bmc_min_interval, lock_dir=store.root / "locks")


def set_access(store: Store, ident: str, use: str, address: str, port: str | int, user: str, password: str) -> dict[str, Any]:
    """machine-set-ipmi: record how to reach the BMC (the password goes to a 0600 file, never listed).

    The operator's word replaces automatic numbering: an address an ``ipmi`` network gave the BMC is released.
    """
    if use not in ("yes", "no"):
        raise InvalidInput(f"invalid use flag {ascii(use)[:40]}: expected yes or no")
    port_number = port if type(port) is int else values.integer(port) if type(port) is str else None
    if port_number is None:  # ASCII digits only: int() would take "٣"
        raise InvalidInput(f"invalid BMC port {ascii(port)[:40]}: expected a number from 1 to 65535")
    _check_credential(user, "user", MAX_BMC_USER, shown=True)
    _check_credential(password, "password", MAX_BMC_PASSWORD, shown=False)
    with store.topology_lock():
        serial = resolve(store, ident)
        access = BmcAccess(serial, use == "yes", address, port_number, user, password)
        tx = store.transaction()
        for network in bmcauto.release(store, serial):
            tx.put(network)
        tx.put(access)
        tx.commit()
    return describe(access)


def _check_credential(value: object, what: str, maximum: int, shown: bool) -> None:
    """A BMC user name or password: printable ASCII on one line, within IPMI 2.0's length (16 and 20 bytes).
    A newline or a control character would end up in the BMC session and in the 0600 file's YAML."""
    if type(value) is str and len(value) <= maximum and value.isascii() and value.isprintable():
        return
    what_given = f" {ascii(value)[:40]}" if shown else ""  # a password is never repeated, even a refused one
    raise InvalidInput(f"invalid BMC {what}{what_given}: expected at most {maximum} printable ASCII characters on one line")


def describe(access: BmcAccess) -> dict[str, Any]:
    out = {"serial": access.serial, "use": access.use, "address": access.address, "port": access.port, "user": access.user}
    if access.network is not None:  # numbered by OCI
        out.update(network=access.network, pending=access.pending)
    return out


def _bmc(store: Store, ident: str) -> tuple[str, PyghmiBmc]:
    serial = resolve(store, ident)
    access = store.find(BmcAccess, serial)
    if access is None or not access.use or not access.address:
        raise Conflict(f"machine {serial} has no BMC access configured", hint=f"machine-set-ipmi {serial} yes ADDRESS PORT USER PASSWORD")
    return serial, PyghmiBmc(Target(access.address, access.port, access.user, access.password), _policy(store))


def command(store: Store, ident: str, verb: str) -> dict[str, Any]:
    """machine-ipmi-cmd: one of a fixed set of verbs (never a shell command)."""
    if verb not in VERBS:
        raise InvalidInput(f"unknown IPMI verb {verb!r}", hint="one of " + ", ".join(VERBS))
    serial, bmc = _bmc(store, ident)
    if verb == "power-status":
        result: Any = bmc.power_status()
    elif verb == "info":
        result = bmc.info()
    elif verb.startswith("boot-"):
        result = bmc.set_boot("network" if verb == "boot-pxe" else "hd")
    else:
        action = {"power-on": "on", "power-off": "off", "power-cycle": "cycle", "power-reset": "reset", "power-soft": "shutdown"}[verb]
        result = bmc.power(action)
    return {"serial": serial, "verb": verb, "result": result}


CONSOLE_SECONDS = (1, 60)  # how long a console read may listen: long enough for a boot message, short for a reply
MAX_CONSOLE_KEYS = 256


def console(store: Store, ident: str, seconds: int | None = None, keys: str | None = None) -> dict[str, Any]:
    """machine-console, read: what the serial-over-LAN console shows in ``seconds`` (5 by default), after
    typing ``keys`` (a carriage return wakes a login prompt). It takes the console over from another client."""
    seconds = 5 if seconds is None else seconds
    low, high = CONSOLE_SECONDS
    if type(seconds) is not int or not low <= seconds <= high:
        raise InvalidInput(f"invalid console time {ascii(seconds)[:40]}: expected {low} to {high} seconds")
    keys = keys or ""
    if len(keys) > MAX_CONSOLE_KEYS or not keys.isascii():
        raise InvalidInput(f"invalid console keys: expected at most {MAX_CONSOLE_KEYS} ASCII characters")
    serial, bmc = _bmc(store, ident)
    return {"serial": serial, "bmc": str(bmc.target), "seconds": seconds, "output": bmc.console(seconds, keys)}


def attach(store: Store, ident: str, in_fd: int = 0, out_fd: int = 1) -> dict[str, Any]:
    """machine-console on the master's terminal, until the operator types ``~.`` (local only: it needs one)."""
    serial, bmc = _bmc(store, ident)
    attached = attach_console(bmc.target, in_fd, out_fd, guard=bmc.policy.timeout * (bmc.policy.retries + 1))
    return {"serial": serial, "bmc": str(bmc.target), "seconds": round(attached, 1)}


def _set_status(store: Store, serial: str, status: MachineStatus) -> None:
    with store.machine_lock([serial]):
        machine = store.get(Machine, serial)
        now = datetime.now(UTC).replace(microsecond=0)
        store.write_machine(replace(machine, status=status, history=machine.reached(status.value, now)))
        beat = store.heartbeat(serial)
        if beat is not None:  # the next report must take the full path and see the status
            store.write_heartbeat(serial, replace(beat, hardware_digest=""))


def reboot(store: Store, ident: str, target: str, through_node: bool = False) -> dict[str, Any]:
    """Reboot into the live image (boot once from the network) or onto the disk (from now on).

    ``through_node``: ask the node first, over SSH (it sets its boot device in-band and reboots cleanly);
    only when SSH cannot reach it, power-cycle it through its BMC. Either way the status follows:
    ``bootinglive`` until the live image reports, ``firstboot`` until the installed system does.
    """
    serial = resolve(store, ident)
    live = target == "live"
    uefi = store.get(Machine, serial).hardware.uefi is True  # as the machine last booted the live image
    result: dict[str, Any] = {"serial": serial}
    unreachable = None
    if through_node:
        try:
            result.update(_reboot_node(store, serial, live, uefi))
        except NodeUnreachable as exc:
            unreachable = exc.message
    if "via" not in result:
        if unreachable is not None and not _has_bmc(store, serial):
            raise Conflict(
                f"{unreachable}, and it has no BMC access configured", hint=f"machine-set-ipmi {serial} yes ADDRESS PORT USER PASSWORD"
            )
        _, bmc = _bmc(store, serial)
        bmc.set_boot("network" if live else "hd", persistent=not live, uefi=uefi)
        bmc.power("cycle")  # on if it was off
        result["via"] = "bmc"
        if unreachable is not None:
            result["node_error"] = unreachable
    status = MachineStatus.BOOTINGLIVE if live else MachineStatus.FIRSTBOOT
    _set_status(store, serial, status)
    result["status"] = status.value
    return result


def boot_from_disk(store: Store, serial: str, uefi: bool) -> bool:
    """Have the BMC boot the disk from now on (an install's end); False if the machine has no BMC access."""
    if not _has_bmc(store, serial):
        return False
    _bmc(store, serial)[1].set_boot("hd", persistent=True, uefi=uefi)
    return True


def _has_bmc(store: Store, serial: str) -> bool:
    """A BMC OCI can reach: an address, in use, and not a numbering the agent has not confirmed yet (the BMC may
    not answer there, and an install must not wait on its timeouts)."""
    access = store.find(BmcAccess, serial)
    return access is not None and access.use and bool(access.address) and not access.pending


def _reboot_node(store: Store, serial: str, live: bool, uefi: bool) -> dict[str, Any]:
    node = remote.node_of(store, serial)
    options = ",".join(o for o in ("efiboot" if uefi else "", "" if live else "persistent") if o)
    bootdev = ["ipmitool", "chassis", "bootdev", "pxe" if live else "disk", *([f"options={options}"] if options else [])]
    out: dict[str, Any] = {"via": "node"}
    try:
        remote.run_on(store, node, bootdev, timeout=30)  # NodeUnreachable from here: nothing was done
    except CommandError as exc:  # the node answered but set no boot device (no local BMC interface)
        if _has_bmc(store, serial):
            _bmc(store, serial)[1].set_boot("network" if live else "hd", persistent=not live, uefi=uefi)
        else:
            out["warning"] = f"boot device not set: {exc.message.splitlines()[0]}"
    with contextlib.suppress(NodeUnreachable):  # it answered a moment ago: the connection went down with the node
        remote.run_on(store, node, ["systemctl", "reboot", "--no-block"], timeout=30)
    return out


def check_all(store: Store, filter_text: str | None = None) -> list[dict[str, Any]]:
    """Ask every configured BMC its power state, a few at once; a BMC that fails does not hold the others."""
    if filter_text is not None and (len(filter_text) > 64 or not filter_text.isprintable()):
        raise InvalidInput("the filter is a piece of serial: at most 64 printable characters")
    accesses = [a for a in store.all(BmcAccess) if a.use and (filter_text is None or filter_text in a.serial)]

    def probe(access: BmcAccess) -> dict[str, Any]:
        bmc = PyghmiBmc(Target(access.address, access.port, access.user, access.password), _policy(store))
        try:
            return {
                "serial": access.serial,
                "bmc": f"{access.address}:{access.port}",
                "reachable": True,
                "power": bmc.power_status(),
                "error": None,
            }
        except OciError as exc:
            return {
                "serial": access.serial,
                "bmc": f"{access.address}:{access.port}",
                "reachable": False,
                "power": None,
                "error": exc.message,
            }

    with ThreadPoolExecutor(store.config.bmc_concurrency) as pool:
        return list(pool.map(probe, accesses))
