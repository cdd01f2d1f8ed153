"""``ip link`` output -> the report's ``nics``: physical Ethernet ports only."""

from __future__ import annotations

import json
import re
from typing import Any

# Interfaces that are not ports of the machine (the reference's agent skips the same families).
_VIRTUAL = re.compile(
    r"^(lo|ifb|veth|tap|tun|vnet|virbr|vmbr|lxcbr|mpqemubr|docker|br-|br\d|bond|team|dummy|ovs-|vxlan|genev|kube|cali|flannel|cni"
    r"|fwbr|fwpr|fwln|idrac|usb|enx)"
)


def _keep(name: str, link_type: str | None, kind: str | None) -> bool:
    if link_type not in (None, "ether") or "@" in name or _VIRTUAL.match(name):
        return False
    return kind in (None, "")  # -d output names the kind of virtual links (vlan, bond, bridge, ...)


def from_json(text: str) -> list[dict[str, Any]]:
    """``ip -j link show`` (or ``ip -j -d link``, ``ip -j addr``)."""
    out = []
    for link in json.loads(text):
        name = link.get("ifname", "")
        kind = (link.get("linkinfo") or {}).get("info_kind")
        if link.get("link") or not _keep(name, link.get("link_type"), kind):
            continue  # "link" set: a VLAN or macvlan on top of another interface
        out.append({"name": name, "mac": link.get("permaddr") or link.get("address")})
    return out


_LINE = re.compile(r"^\d+: ([^:@\s]+)(@\S+)?: <")
_ETHER = re.compile(r"^\s+link/(\S+) ([0-9a-fA-F:]{17})(?:.* permaddr ([0-9a-fA-F:]{17}))?")
_KIND = re.compile(r"^\s+(vlan|bond|bridge|veth|tun|dummy|vxlan|macvlan|team|openvswitch) ")


def from_text(text: str) -> list[dict[str, Any]]:
    """``ip link show`` / ``ip -s -d link`` text."""
    out = []
    name: str | None = None
    link_type: str | None = None
    mac: str | None = None
    kind: str | None = None
    stacked = False

    def flush() -> None:
        if name is not None and mac is not None and not stacked and _keep(name, link_type, kind):
            out.append({"name": name, "mac": mac})

    for line in text.splitlines():
        head = _LINE.match(line)
        if head:
            flush()
            name, stacked, link_type, mac, kind = head.group(1), bool(head.group(2)), None, None, None
            continue
        ether = _ETHER.match(line)
        if ether and mac is None:
            # A bond's ports show the bond's address; "permaddr" is the port's own.
            link_type, mac = ether.group(1), (ether.group(3) or ether.group(2)).lower()
            continue
        virtual = _KIND.match(line)
        if virtual and kind is None:
            kind = virtual.group(1)
    flush()
    return out
