"""Pure parsers of the smaller tools the agent runs: ethtool, lldpctl, lscpu, lsmem, /proc/meminfo,
ipmitool, mokutil. Each takes the tool's text and returns plain data; unknown or missing values are None."""

from __future__ import annotations

import json
import re
from typing import Any

from oci.report.v1 import text as clean


def _colon_pairs(text: str, separator: str = ":") -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(separator)
        if sep and key.strip() and key.strip() not in out:
            out[key.strip()] = value.strip()
    return out


def ethtool_driver(text: str) -> dict[str, str | None]:
    """``ethtool -i NIC``: driver and firmware."""
    pairs = _colon_pairs(text)
    return {"driver": clean(pairs.get("driver")), "firmware": clean(pairs.get("firmware-version"))}


def ethtool_speed(text: str) -> int | None:
    """``ethtool NIC``: ``Speed: 10000Mb/s`` -> 10000 (None for ``Unknown!`` or no line)."""
    match = re.search(r"^\s*Speed:\s*(\d+)\s*Mb/s", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def _lldp_items(node: Any) -> list[tuple[str, Any]]:
    """lldpd writes one object per name, or a list of single-key objects when there are several."""
    if isinstance(node, dict):
        return list(node.items())
    if isinstance(node, list):
        return [item for entry in node if isinstance(entry, dict) for item in entry.items()]
    return []


def lldp_neighbours(text: str) -> dict[str, dict[str, str | None]]:
    """``lldpctl -f json``: NIC -> {switch_name, switch_port} of its first neighbour."""
    data = json.loads(text)
    lldp = data.get("lldp", {}) if isinstance(data, dict) else {}
    if isinstance(lldp, list):  # some versions wrap the top object in a list
        lldp = lldp[0] if lldp and isinstance(lldp[0], dict) else {}
    out: dict[str, dict[str, str | None]] = {}
    for nic, info in _lldp_items(lldp.get("interface")):
        if nic in out or not isinstance(info, dict):
            continue
        switch = None
        for name, chassis in _lldp_items(info.get("chassis")):
            if name != "id" and isinstance(chassis, dict):
                switch = clean(name)
                break
            if isinstance(chassis, dict) and isinstance(chassis.get("value"), str) and name == "name":
                switch = clean(chassis["value"])
        port = info.get("port") if isinstance(info.get("port"), dict) else {}
        port_id = port.get("id") if isinstance(port, dict) else None
        value = port_id.get("value") if isinstance(port_id, dict) else port_id
        out[nic] = {"switch_name": switch, "switch_port": clean(value) if isinstance(value, str) else None}
    return out


def _lscpu_fields(entries: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        field = str(entry.get("field", "")).rstrip(":").strip()
        if field and field not in out and entry.get("data") is not None:
            out[field] = str(entry["data"]).strip()
        out.update({k: v for k, v in _lscpu_fields(entry.get("children")).items() if k not in out})
    return out


def lscpu(text: str) -> dict[str, Any]:
    """``lscpu -J`` (flat in util-linux 2.36, nested in 2.38) -> the report's cpu fields."""
    fields = _lscpu_fields(json.loads(text).get("lscpu"))

    def number(name: str) -> int | None:
        value = fields.get(name, "")
        return int(value) if value.isdigit() else None

    mhz = fields.get("CPU max MHz") or fields.get("CPU MHz")
    try:
        speed = float(mhz.replace(",", ".")) if mhz else None
    except ValueError:
        speed = None
    return {
        "vendor": clean(fields.get("Vendor ID")),
        "model": clean(" ".join(fields.get("Model name", "").split())),
        "sockets": number("Socket(s)"),
        "cores_per_socket": number("Core(s) per socket"),
        "threads": number("CPU(s)"),
        "mhz": speed,
    }


def lsmem_total_mb(text: str) -> int | None:
    """``lsmem -J -b``: total online memory, in MiB."""
    ranges = json.loads(text).get("memory", [])
    total = sum(int(r.get("size", 0)) for r in ranges if isinstance(r, dict) and r.get("state") == "online")
    return total // (1024 * 1024) or None


def meminfo_total_mb(text: str) -> int | None:
    """``/proc/meminfo``: MemTotal (a little less than installed: the kernel keeps some)."""
    match = re.search(r"^MemTotal:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) // 1024 if match else None


def ipmitool_firmware(text: str) -> str | None:
    """``ipmitool mc info``: the BMC's firmware revision."""
    return clean(_colon_pairs(text).get("Firmware Revision"))


def ipmitool_lan(text: str) -> dict[str, str | None]:
    """``ipmitool lan print``: the BMC's address and MAC."""
    pairs = _colon_pairs(text)
    address = clean(pairs.get("IP Address"))
    mac = clean(pairs.get("MAC Address"))
    return {"address": address if address and address != "0.0.0.0" else None, "mac": mac.lower() if mac else None}  # noqa: S104


def secure_boot(text: str) -> bool | None:
    """``mokutil --sb-state``."""
    if re.search(r"SecureBoot enabled", text):
        return True
    if re.search(r"SecureBoot disabled", text):
        return False
    return None
