"""Racking from LLDP (pure: docs/racking.md): where a server sits, from the switch ports its NICs are cabled to.

The operator's rules, one YAML file::

    switches:                  # in order: the first whose pattern fits a NIC's LLDP switch name
      - switch: "dc1-r1a-*"    # a shell pattern
        dc: dc1
        row: "1"
        rack: r1a
        location: dc1-zone1    # the OCI location a machine of that rack is enrolled in (optional)
    ports:                     # the switch port a server's first NIC is cabled to -> its lowest rack unit
      swp1: 1
      Ethernet1/12: 12
    products:                  # a product's height in rack units (1 when it is not listed); shell patterns
      "PowerEdge R740*": 2

A switch rule may have its own ``ports``, over the common ones. ``parse`` refuses a wrong file in one line;
``guess`` takes the first NIC whose LLDP neighbour fits a rule and has a known port, and says why each NIC did
not when none does.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field

from oci import names, values
from oci.errors import InvalidInput
from oci.model import Hardware
from oci.model.settings import MACHINE_SETTINGS

MAX_U = int(MACHINE_SETTINGS["loc_u_end"].maximum or 100)
_TEXT_KEYS = ("dc", "row", "rack")


@dataclass(frozen=True, slots=True)
class SwitchRule:
    switch: str  # shell pattern on the LLDP switch (chassis) name
    dc: str
    row: str
    rack: str
    location: str | None = None
    ports: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rules:
    switches: tuple[SwitchRule, ...] = ()
    ports: Mapping[str, int] = field(default_factory=dict)
    products: Mapping[str, int] = field(default_factory=dict)  # pattern -> height in rack units

    def height(self, product: str | None) -> int:
        return next((u for pattern, u in self.products.items() if product and fnmatch.fnmatchcase(product, pattern)), 1)


@dataclass(frozen=True, slots=True)
class Racking:
    """Where the machine is: what ``machine-auto-rack`` writes (``settings``), and what told it."""

    dc: str
    row: str
    rack: str
    u_start: int
    u_end: int
    location: str | None
    nic: str
    switch: str
    port: str

    @property
    def settings(self) -> dict[str, str | int]:
        return {"loc_dc": self.dc, "loc_row": self.row, "loc_rack": self.rack, "loc_u_start": self.u_start, "loc_u_end": self.u_end}


# ---------------------------------------------------------------------------------------------------- parsing
def parse(document: object, source: str = "racking rules") -> Rules:
    """The rules of a loaded YAML document; InvalidInput, in one line, for the first fault."""
    if document is None:
        return Rules()
    try:
        return _rules(document)
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc.message}", hint=exc.hint) from None


def _rules(document: object) -> Rules:
    body = values.mapping(document, "the file", {"switches", "ports", "products"})
    switches = body.get("switches", [])
    if not isinstance(switches, list):
        raise InvalidInput("switches: must be a list of switch rules")
    return Rules(
        tuple(_switch(rule, f"switches[{i}]") for i, rule in enumerate(switches)),
        _ports(body.get("ports", {}), "ports"),
        _products(body.get("products", {})),
    )


def _text(value: object, where: str) -> str:
    """A rack's coordinates go into machine settings (free text: printable, one line, 255 at most)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > 255 or not value.isprintable():
        raise InvalidInput(f"{where}: must be a text of one line")
    return value


def _switch(value: object, where: str) -> SwitchRule:
    body = values.mapping(value, where, {"switch", *_TEXT_KEYS, "location", "ports"})
    missing = [k for k in ("switch", *_TEXT_KEYS) if k not in body]
    if missing:
        raise InvalidInput(f"{where}: {missing[0]} is missing")
    location = body.get("location")
    if location is not None:
        names.location(str(location))
    dc, row, rack = (_text(body[k], f"{where}.{k}") for k in _TEXT_KEYS)
    return SwitchRule(_text(body["switch"], f"{where}.switch"), dc, row, rack, None if location is None else str(location),
                      _ports(body.get("ports", {}), f"{where}.ports"))  # fmt: skip


def _unit(value: object, where: str, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_U:
        raise InvalidInput(f"{where}: must be a whole number from {low} to {MAX_U}")
    return value


def _ports(value: object, where: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: must be a mapping of switch port names to rack units")
    return {_text(port, f"{where}: a port name"): _unit(u, f"{where}.{port}", 1) for port, u in value.items()}


def _products(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise InvalidInput("products: must be a mapping of product names (shell patterns) to heights in rack units")
    return {_text(product, "products: a product name"): _unit(u, f"products.{product}", 1) for product, u in value.items()}


# ---------------------------------------------------------------------------------------------------- guessing
def guess(rules: Rules, hardware: Hardware) -> tuple[Racking | None, list[str]]:
    """Where the machine is, from its first NIC whose LLDP neighbour fits a switch rule at a known port; else
    None, and why each NIC told nothing."""
    why = []
    for nic in hardware.nics:
        if not nic.switch_name or not nic.switch_port:
            why.append(f"{nic.name}: no LLDP neighbour")
            continue
        rule = next((r for r in rules.switches if fnmatch.fnmatchcase(nic.switch_name, r.switch)), None)
        if rule is None:
            why.append(f"{nic.name}: switch {nic.switch_name} fits no switch rule")
            continue
        u = rule.ports.get(nic.switch_port, rules.ports.get(nic.switch_port))
        if u is None:
            why.append(f"{nic.name}: port {nic.switch_port} of {nic.switch_name} has no rack unit")
            continue
        end = u + rules.height(hardware.product_name) - 1
        if end > MAX_U:
            why.append(f"{nic.name}: rack units {u} to {end} go past {MAX_U}")
            continue
        return Racking(rule.dc, rule.row, rule.rack, u, end, rule.location, nic.name, nic.switch_name, nic.switch_port), why
    return None, why or ["it reported no NIC"]
