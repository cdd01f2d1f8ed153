"""isc-dhcp-server configuration for the provisioning network (a pure renderer; golden-file tested).

The boot file depends on who asks: iPXE (user class "iPXE") gets the HTTP URL of OCI's iPXE script, a UEFI
firmware (client architecture 7 or 9) gets ``ipxe.efi``, a BIOS one ``undionly.kpxe``, both over TFTP: only
that first stage travels by TFTP, whose stalls peers' users complain of; everything else comes over HTTP.
"""

from __future__ import annotations

from oci.boot.site import BootSite
from oci.templates import Templates, shipped

TEMPLATE = "dhcpd.conf.j2"


def render(site: BootSite, templates: Templates | None = None) -> str:
    net = site.network
    return (templates or shipped()).render(
        TEMPLATE,
        {
            "network_address": str(net.network_address),
            "netmask": str(net.netmask),
            "range_first": str(site.range_first),
            "range_last": str(site.range_last),
            "gateway": str(site.gateway) if site.gateway is not None else "",
            "dns_servers": [str(a) for a in site.dns_servers],
            "master": str(site.master),
            "url": site.url,
        },
    )
