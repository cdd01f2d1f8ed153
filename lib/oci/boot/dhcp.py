"""isc-dhcp-server configuration for the provisioning network (a pure renderer; golden-file tested).

The boot file depends on who asks: iPXE (user class "iPXE") gets the HTTP URL of OCI's iPXE script, a UEFI
firmware (client architecture 7 or 9) gets ``ipxe.efi``, a BIOS one ``undionly.kpxe``, both over TFTP: only
that first stage travels by TFTP, whose stalls peers' users complain of; everything else comes over HTTP.
"""

from __future__ import annotations

from oci.boot.site import BootSite

HEADER = "# Written by oci-boot-render from the OCI configuration; changes here are overwritten.\n"


def render(site: BootSite) -> str:
    net = site.network
    options = []
    if site.gateway is not None:
        options.append(f"  option routers {site.gateway};")
    if site.dns_servers:
        options.append(f"  option domain-name-servers {', '.join(map(str, site.dns_servers))};")
    lines = [
        HEADER.rstrip("\n"),
        "authoritative;",
        "ping-check false;",
        "default-lease-time 600;",
        "max-lease-time 7200;",
        "# One lease for the PXE ROM, iPXE and the live system: OCI knows a live machine by the address it reports from.",
        "ignore-client-uids true;",
        "option arch code 93 = unsigned integer 16;",
        "",
        f"subnet {net.network_address} netmask {net.netmask} {{",
        f"  range {site.range_first} {site.range_last};",
        *options,
        f"  next-server {site.master};",
        '  if exists user-class and option user-class = "iPXE" {',
        f'    filename "{site.url}/boot/ipxe";',
        "  } elsif option arch = 00:07 or option arch = 00:09 {",
        '    filename "ipxe.efi";',
        "  } else {",
        '    filename "undionly.kpxe";',
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"
