"""A host's ``/etc/hosts`` at install time (reference §5.7).

The cluster's lines (the master as ``puppet``, VIP names, control plane, the host itself) are the ENC's
(``oci.enc.classify.etc_hosts``), and ``oci::generic`` wraps them exactly as ``render`` does: the file written
at install time is the one Puppet keeps (tests/integration/test_puppet.py compares them). The block OCI owns
sits between the ``OCISTA_MAINTAINED`` and ``OCIFIN_MAINTAINED`` markers of OCI 42.
"""

from __future__ import annotations

from collections.abc import Sequence

from oci.templates import Templates, shipped

PATH = "etc/hosts"
TEMPLATE = "hosts.j2"


def render(cluster: str, lines: Sequence[str], templates: Templates | None = None) -> str:
    return (templates or shipped()).render(TEMPLATE, {"cluster": cluster, "lines": list(lines)})
