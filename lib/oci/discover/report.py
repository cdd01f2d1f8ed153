"""Assemble a schema-1 hardware report from the tools' output (the agent's last step), purely.

The same ``Captures`` come from a live machine (``oci.agent.collect``) or from a folder of captured files
(``from_capture_folder``, used by the tests and the PoC), so both go through the same parsers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from oci.discover import blockdevices, dmidecode, nics, tools

T = TypeVar("T")


@dataclass
class Captures:
    """Raw output of each tool; None when the tool failed or was not run (``errors`` says why)."""

    dmidecode: str | None = None
    lsblk_json: str | None = None
    lsblk_text: str | None = None
    ip_link_json: str | None = None
    ip_link_text: str | None = None
    ethtool_driver: dict[str, str] = field(default_factory=dict)  # NIC -> ``ethtool -i NIC``
    ethtool: dict[str, str] = field(default_factory=dict)  # NIC -> ``ethtool NIC``
    lldpctl_json: str | None = None
    lscpu_json: str | None = None
    lsmem_json: str | None = None
    meminfo: str | None = None
    ipmitool_mc_info: str | None = None
    ipmitool_lan_print: str | None = None
    mokutil: str | None = None
    efi: bool | None = None  # /sys/firmware/efi exists
    sorted_disks: bool | None = None  # /dev/disk/oci-sort exists
    errors: list[str] = field(default_factory=list)


def _parse(errors: list[str], what: str, parser: Callable[[str], T], text: str | None) -> T | None:
    """Run a parser; output a parser cannot read becomes an error line, never an exception."""
    if text is None:
        return None
    try:
        return parser(text)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        errors.append(f"{what}: unreadable output ({type(exc).__name__}: {exc})"[:200])
        return None


def _merge(primary: dict[str, Any] | None, fallback: dict[str, Any] | None) -> dict[str, Any] | None:
    if not primary:
        return fallback
    if not fallback:
        return primary
    return {k: primary.get(k) if primary.get(k) is not None else fallback.get(k) for k in {*primary, *fallback}}


def mac_serial(found_nics: list[dict[str, Any]]) -> str | None:
    """The identity of a machine without DMI tables: ``mac-`` and its lowest Ethernet address.

    The lowest address rather than the first interface's: interface names change with udev rules and
    kernels, the set of addresses does not (unless a card is replaced, which then looks like a new machine).
    """
    macs = sorted(str(n["mac"]).lower() for n in found_nics if n.get("mac") and n["mac"] != "00:00:00:00:00:00")
    return f"mac-{macs[0].replace(':', '')}" if macs else None


def build(captures: Captures, serial: str | None = None) -> dict[str, Any]:
    """A report body; ``serial`` overrides the machine's own (the PoC names its machines C1, C2...)."""
    errors = list(captures.errors)
    body: dict[str, Any] = {"version": 1}

    facts = _parse(errors, "dmidecode", dmidecode.facts, captures.dmidecode)
    if facts is not None and not (facts["system"]["manufacturer"] or facts["cpu"] or facts["memory"]):
        errors.append("dmidecode: no SMBIOS table")
        facts = None
    if facts is not None:
        body["system"] = facts["system"]

    cpu = _merge(_parse(errors, "lscpu", tools.lscpu, captures.lscpu_json), facts["cpu"] if facts else None)
    if cpu:
        body["cpu"] = cpu
    memory = facts["memory"] if facts else None
    if memory is None:  # no DIMM table: what the kernel sees
        total = _parse(errors, "lsmem", tools.lsmem_total_mb, captures.lsmem_json) or _parse(
            errors, "meminfo", tools.meminfo_total_mb, captures.meminfo
        )
        memory = {"total_mb": total} if total else None
    if memory:
        body["memory"] = memory

    system = body.setdefault("system", {})
    if captures.efi is not None:
        system["uefi"] = captures.efi
    if captures.sorted_disks is not None:
        system["sorted_disk_names"] = captures.sorted_disks
    sb = _parse(errors, "mokutil", tools.secure_boot, captures.mokutil)
    if sb is None and captures.efi is False:
        sb = False  # a legacy BIOS boot has no secure boot
    if sb is not None:
        system["secure_boot"] = sb
    if not system:
        del body["system"]

    disks = _parse(errors, "lsblk", blockdevices.from_json, captures.lsblk_json)
    if disks is None:
        disks = _parse(errors, "lsblk", blockdevices.from_text, captures.lsblk_text)
    if disks is not None:
        body["disks"] = disks

    found = _parse(errors, "ip link", nics.from_json, captures.ip_link_json)
    if found is None:
        found = _parse(errors, "ip link", nics.from_text, captures.ip_link_text)
    neighbours = _parse(errors, "lldpctl", tools.lldp_neighbours, captures.lldpctl_json) or {}
    if found is not None:
        for nic in found:
            name = nic["name"]
            driver = _parse(errors, f"ethtool -i {name}", tools.ethtool_driver, captures.ethtool_driver.get(name))
            speed = _parse(errors, f"ethtool {name}", tools.ethtool_speed, captures.ethtool.get(name))
            nic.update(driver or {})
            if speed:
                nic["speed_mbps"] = speed
            nic.update(neighbours.get(name, {}))
        body["nics"] = found

    bmc = _parse(errors, "ipmitool lan print", tools.ipmitool_lan, captures.ipmitool_lan_print) or {}
    firmware = _parse(errors, "ipmitool mc info", tools.ipmitool_firmware, captures.ipmitool_mc_info)
    if firmware:
        bmc["firmware"] = firmware
    if any(bmc.values()):
        body["bmc"] = bmc

    if serial is not None:
        body["serial"], body["serial_source"] = serial, "assigned"
    elif facts is not None and facts["serial"]:
        body["serial"], body["serial_source"] = facts["serial"], facts["serial_source"]
    else:
        body["serial"] = mac_serial(found or [])
        body["serial_source"] = "mac" if body["serial"] else None
    if errors:
        body["errors"] = errors
    return body


def from_capture_folder(folder: Path, serial: str | None = None) -> dict[str, Any]:
    """A report from captured files (tests/data/hw/<machine>/: dmidecode.txt, lsblk.json or .txt,
    ip-link.json or .txt, ip-addr.json or .txt, ethtool-i-<nic>.txt, ethtool-<nic>.txt, lldpctl.json, lscpu.json,
    lsmem.json, meminfo.txt, ipmitool-mc-info.txt, ipmitool-lan-print.txt, mokutil-sb-state.txt, efi.txt)."""

    def read(name: str) -> str | None:
        path = folder / name
        return path.read_text() if path.exists() else None

    def per_nic(prefix: str) -> dict[str, str]:
        return {p.name[len(prefix) : -4]: p.read_text() for p in sorted(folder.glob(f"{prefix}*.txt"))}

    efi = read("efi.txt")
    captures = Captures(
        dmidecode=read("dmidecode.txt"),
        lsblk_json=read("lsblk.json"),
        lsblk_text=read("lsblk.txt"),
        ip_link_json=read("ip-link.json") or read("ip-addr.json"),
        ip_link_text=read("ip-link.txt") or read("ip-addr.txt"),
        ethtool_driver=per_nic("ethtool-i-"),
        ethtool={k: v for k, v in per_nic("ethtool-").items() if not k.startswith("i-")},
        lldpctl_json=read("lldpctl.json"),
        lscpu_json=read("lscpu.json"),
        lsmem_json=read("lsmem.json"),
        meminfo=read("meminfo.txt"),
        ipmitool_mc_info=read("ipmitool-mc-info.txt"),
        ipmitool_lan_print=read("ipmitool-lan-print.txt"),
        mokutil=read("mokutil-sb-state.txt"),
        efi=None if efi is None else efi.strip() == "present",
    )
    return build(captures, serial=serial)
