"""Assemble a schema-1 hardware report from captured tool output (the agent's last step)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oci.discover import blockdevices, dmidecode, nics


def build(
    serial: str | None,
    dmidecode_text: str | None = None,
    lsblk_json: str | None = None,
    lsblk_text: str | None = None,
    ip_link_json: str | None = None,
    ip_link_text: str | None = None,
) -> dict[str, Any]:
    """A report body; ``serial`` overrides the one dmidecode gives (needed when the BIOS has none)."""
    errors = []
    body: dict[str, Any] = {"version": 1, "serial": serial}
    if dmidecode_text is not None:
        found = dmidecode.facts(dmidecode_text)
        body["serial"] = serial or found["serial"]
        for key in ("system", "cpu", "memory"):
            if found[key] is not None:
                body[key] = found[key]
        if not any(found[k] for k in ("cpu", "memory")) and not found["system"]["manufacturer"]:
            errors.append("dmidecode: no SMBIOS table")
    if lsblk_json is not None:
        body["disks"] = blockdevices.from_json(lsblk_json)
    elif lsblk_text is not None:
        body["disks"] = blockdevices.from_text(lsblk_text)
    if ip_link_json is not None:
        body["nics"] = nics.from_json(ip_link_json)
    elif ip_link_text is not None:
        body["nics"] = nics.from_text(ip_link_text)
    if errors:
        body["errors"] = errors
    return body


def from_capture_folder(folder: Path, serial: str | None = None) -> dict[str, Any]:
    """A report from a folder of captured files named as in tests/data/hw/ (dmidecode.txt, lsblk.json,
    lsblk.txt, ip-link.json, ip-link.txt or ip-addr.txt)."""

    def read(name: str) -> str | None:
        path = folder / name
        return path.read_text() if path.exists() else None

    return build(
        serial,
        dmidecode_text=read("dmidecode.txt"),
        lsblk_json=read("lsblk.json"),
        lsblk_text=read("lsblk.txt"),
        ip_link_json=read("ip-link.json"),
        ip_link_text=read("ip-link.txt") or read("ip-addr.txt"),
    )
