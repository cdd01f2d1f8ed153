"""A machine's planned network from the store: the model, the rendered files, and a listing of its devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oci import templates
from oci.enc import refresh as enc
from oci.errors import InvalidInput, NotFound
from oci.model import Machine
from oci.netconf import eni, hosts
from oci.netconf.build import build
from oci.netconf.model import Device, HostNetwork, Physical, Vlan, kind
from oci.service import clusters, machines
from oci.store import Store
from oci.store.files import load_yaml


@dataclass(frozen=True)
class Plan:
    serial: str
    network: HostNetwork
    files: dict[str, str]  # relative path -> content


def _etc_hosts_lines(store: Store, hostname: str) -> list[str]:
    """The ENC's lines for the host: what Puppet keeps in /etc/hosts later (refreshed after every change)."""
    document = enc.lookup(store, hostname)
    if document is None:
        raise NotFound(f"no classification for {hostname}", hint="it is written when the machine is enrolled; see enc-show")
    return list(load_yaml(document)["classes"]["oci::generic"]["etc_hosts"])


def plan(store: Store, ident: str) -> Plan:
    """The network of a machine enrolled in a cluster, and the files it gets. Writes nothing."""
    serial = machines.resolve(store, ident)
    machine = store.get(Machine, serial)
    if machine.enrolment is None:
        raise InvalidInput(f"machine {serial} is in no cluster: it has no planned network", hint="machine-add it first")
    view = clusters.view(store, machine.enrolment.cluster)
    member = next(m for m in view.members if m.serial == serial)
    network = build(view, member, machine.hardware.nics)
    lines = _etc_hosts_lines(store, member.hostname)
    chosen = templates.load(store.config.templates_dir)
    files = {**eni.render(network, chosen), hosts.PATH: hosts.render(view.cluster.name, lines, chosen)}
    return Plan(serial, network, files)


def describe(device: Device) -> dict[str, Any]:
    row: dict[str, Any] = {
        "device": device.name,
        "kind": kind(device),
        "on": list(device.lower),
        "mtu": device.mtu,
        "addresses": [a.with_prefixlen for a in device.addresses],
        "gateway": str(device.gateway) if device.gateway else None,
        "networks": list(device.networks),
        "mac": device.mac if isinstance(device, Physical) else None,
        "vlan": device.vlan_id if isinstance(device, Vlan) else None,
    }
    return row


def show(store: Store, ident: str) -> list[dict[str, Any]]:
    """``machine-show-network``: one row per device of the machine's planned network."""
    return [describe(d) for d in plan(store, ident).network.in_order()]
