"""A host's network as typed values: the devices (NICs, bonds, VLANs, bridges) and what sits on them.

Built by ``oci.netconf.build`` from the cluster's state and read by the renderers (``oci.netconf.eni``); nothing
here looks at the running host. Every device names the devices it sits on (a VLAN its link, a bond its
members, a bridge its ports), so the stack is a tree whose leaves are physical NICs. ``HostNetwork`` checks
that tree when it is made: an inconsistent model cannot reach a renderer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import TypeVar

from oci import names
from oci.errors import InvalidInput
from oci.naming import natural_key


@dataclass(frozen=True, slots=True)
class Route:
    destination: IPv4Network
    via: IPv4Address


@dataclass(frozen=True, slots=True, kw_only=True)
class Device:
    """What every kind of device has: a name, an MTU, and the addresses and routes configured on it."""

    name: str
    mtu: int | None = None  # None: the kernel's default (1500 for Ethernet)
    addresses: tuple[IPv4Interface, ...] = ()
    gateway: IPv4Address | None = None  # the default route goes through it
    routes: tuple[Route, ...] = ()
    networks: tuple[str, ...] = ()  # the OCI networks this device carries (shown in comments)

    @property
    def lower(self) -> tuple[str, ...]:
        """The devices this one sits on."""
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Physical(Device):
    mac: str
    speed_mbps: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Bond(Device):
    """A kernel bond. LACP (802.3ad) by default, as OCI 42's image tool sets up."""

    members: tuple[str, ...]
    mode: str = "802.3ad"
    miimon: int = 100
    lacp_rate: str = "fast"
    hash_policy: str = "layer3+4"

    @property
    def lower(self) -> tuple[str, ...]:
        return self.members


@dataclass(frozen=True, slots=True, kw_only=True)
class Vlan(Device):
    link: str
    vlan_id: int

    @property
    def lower(self) -> tuple[str, ...]:
        return (self.link,)


class BridgeKind(StrEnum):
    LINUX = "linux"
    OVS = "ovs"  # an Open vSwitch bridge (br-ex, provider networks)


@dataclass(frozen=True, slots=True, kw_only=True)
class Bridge(Device):
    ports: tuple[str, ...]
    kind: BridgeKind = BridgeKind.LINUX

    @property
    def lower(self) -> tuple[str, ...]:
        return self.ports


_D = TypeVar("_D", bound=Device)
_LAYERS = ("nic", "bond", "vlan", "linux-bridge", "ovs-bridge")


def kind(device: Device) -> str:
    """nic, bond, vlan, linux-bridge or ovs-bridge."""
    if isinstance(device, Bridge):
        return f"{device.kind.value}-bridge"
    return {Physical: "nic", Bond: "bond", Vlan: "vlan"}[type(device)]


@dataclass(frozen=True, slots=True)
class HostNetwork:
    hostname: str
    devices: tuple[Device, ...]
    nameservers: tuple[IPv4Address, ...] = ()
    search: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        by_name: dict[str, Device] = {}
        for device in self.devices:
            names.interface(device.name)
            if device.name in by_name:
                raise InvalidInput(f"{self.hostname}: two devices are named {device.name}")
            by_name[device.name] = device
        upper: dict[str, str] = {}
        for device in self.devices:
            if isinstance(device, Vlan) and not 1 <= device.vlan_id <= 4094:
                raise InvalidInput(f"{self.hostname}: VLAN {device.vlan_id} of {device.name} is outside 1..4094")
            for name in device.lower:
                if name not in by_name:
                    raise InvalidInput(f"{self.hostname}: {device.name} sits on {name}, which is not a device of the host")
                # A VLAN shares its link with others; a bond member or a bridge port belongs to one device only.
                if not isinstance(device, Vlan):
                    if name in upper:
                        raise InvalidInput(f"{self.hostname}: {name} cannot be in both {upper[name]} and {device.name}")
                    upper[name] = device.name
        # A bond member or a bridge port hands its traffic to its master: nothing else may sit on it.
        for device in self.devices:
            if device.name in upper and device.addresses:
                raise InvalidInput(f"{self.hostname}: {device.name} is in {upper[device.name]}, so it cannot also carry addresses")
            if isinstance(device, Vlan) and device.link in upper:
                raise InvalidInput(f"{self.hostname}: {device.name} sits on {device.link}, which is in {upper[device.link]}")
        gateways = [d.name for d in self.devices if d.gateway is not None]
        if len(gateways) > 1:
            raise InvalidInput(f"{self.hostname}: more than one default gateway ({', '.join(gateways)})")

    def in_order(self) -> list[Device]:
        """Devices below the devices on top of them: NICs, bonds, VLANs, Linux bridges, OVS bridges; then by name."""
        return sorted(self.devices, key=lambda d: (_LAYERS.index(kind(d)), natural_key(d.name)))

    def device(self, name: str) -> Device:
        return next(d for d in self.devices if d.name == name)

    def holding(self, address: IPv4Address) -> Device | None:
        """The device ``address`` is configured on, if any."""
        return next((d for d in self.devices if any(a.ip == address for a in d.addresses)), None)

    def of_kind(self, cls: type[_D]) -> Iterator[_D]:
        return (d for d in self.devices if isinstance(d, cls))

    def master_of(self, name: str) -> Device | None:
        """The bond or bridge ``name`` is enslaved to, if any (VLANs on it are not its master)."""
        return next((d for d in self.devices if not isinstance(d, Vlan) and name in d.lower), None)
