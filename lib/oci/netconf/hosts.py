"""A host's ``/etc/hosts`` at install time (reference §5.7).

The cluster's lines (VIP names, control plane, the host itself) are the ENC's (``oci.enc.classify.etc_hosts``),
so the file written at install time and the one Puppet keeps later name the same hosts. The block OCI owns
sits between the ``OCISTA_MAINTAINED`` and ``OCIFIN_MAINTAINED`` markers of OCI 42. The master is listed as
``puppet`` (the name a Puppet agent looks for by default) at ``[network] oci_ip``, when that is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address

PATH = "etc/hosts"
MASTER_NAME = "puppet"


def render(cluster: str, lines: Sequence[str], master: IPv4Address | None) -> str:
    out = [
        "127.0.0.1 localhost",
        "::1 localhost ip6-localhost ip6-loopback",
        "ff02::1 ip6-allnodes",
        "ff02::2 ip6-allrouters",
        f"# OCISTA_MAINTAINED: cluster {cluster}; OCI rewrites the lines down to OCIFIN_MAINTAINED",
    ]
    if master is not None:
        out.append(f"{master} {MASTER_NAME}")
    out += lines
    out.append("# OCIFIN_MAINTAINED")
    return "\n".join(out) + "\n"
