"""The provisioning network as the boot services see it, from the configuration, checked once."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from oci.config import Config
from oci.errors import ConfigError


@dataclass(frozen=True)
class BootSite:
    network: IPv4Network  # where unknown machines PXE-boot and report from
    master: IPv4Address  # OCI's address on it: next-server, and the host of the boot URL
    range_first: IPv4Address
    range_last: IPv4Address
    gateway: IPv4Address | None
    dns_servers: tuple[IPv4Address, ...]
    url: str  # base URL of OCI for booting nodes, no trailing slash
    kernel_args: str

    @classmethod
    def from_config(cls, cfg: Config) -> BootSite:
        network, master = cfg.provisioning_network, cfg.master_address
        if network is None or master is None:
            raise ConfigError(
                "the provisioning network is not configured",
                hint="set [network] provisioning_network and oci_ip (dpkg-reconfigure openstack-cluster-installer)",
            )
        if master not in network:
            raise ConfigError(f"[network] oci_ip {master} is not in the provisioning network {network}")
        first, last = cfg.dhcp_range or _upper_half(network)
        for end in (first, last):
            if end not in network or end in (network.network_address, network.broadcast_address):
                raise ConfigError(f"[network] dhcp_range: {end} is not a host address of {network}")
        if first <= master <= last:
            raise ConfigError(f"[network] dhcp_range {first}-{last} contains the master's address {master}")
        if cfg.gateway is not None and cfg.gateway not in network:
            raise ConfigError(f"[network] gateway {cfg.gateway} is not in {network}")
        url = cfg.boot_url or f"http://{master}:{cfg.listen[1]}"
        return cls(network, master, first, last, cfg.gateway, cfg.dns_servers, url, cfg.kernel_args)


def _upper_half(network: IPv4Network) -> tuple[IPv4Address, IPv4Address]:
    """Unknown machines get the upper half (the lower half stays for static addresses), less the broadcast."""
    if network.prefixlen > 29:
        raise ConfigError(f"the provisioning network {network} is too small: give [network] dhcp_range")
    base, size = int(network.network_address), network.num_addresses
    return IPv4Address(base + size // 2), IPv4Address(base + size - 2)
