"""A host's ``/etc/hosts`` at install time (reference §5.7).

The cluster's lines (the master as ``puppet``, VIP names, control plane, the host itself) are the ENC's
(``oci.enc.classify.etc_hosts``), and ``oci::generic`` wraps them exactly as ``render`` does: the file written
at install time is the one Puppet keeps (tests/integration/test_puppet.py compares them). The block OCI owns
sits between the ``OCISTA_MAINTAINED`` and ``OCIFIN_MAINTAINED`` markers of OCI 42.
"""

from __future__ import annotations

from collections.abc import Sequence

PATH = "etc/hosts"


def render(cluster: str, lines: Sequence[str]) -> str:
    out = [
        "127.0.0.1 localhost",
        "::1 localhost ip6-localhost ip6-loopback",
        "ff02::1 ip6-allnodes",
        "ff02::2 ip6-allrouters",
        f"# OCISTA_MAINTAINED: cluster {cluster}; OCI rewrites the lines down to OCIFIN_MAINTAINED",
    ]
    out += lines
    out.append("# OCIFIN_MAINTAINED")
    return "\n".join(out) + "\n"
