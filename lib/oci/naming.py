"""Hostnames: ``<cluster>-<role>-<N>.<domain>`` from a per-(cluster, role) counter that never goes down."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import replace

from oci import names
from oci.errors import InvalidInput
from oci.model import Cluster

_NUMBER = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[object, ...]:
    """Sort key that puts ``cl-compute-2`` before ``cl-compute-10``."""
    return tuple(int(part) if part.isdigit() else part for part in _NUMBER.split(text))


def next_hostname(cluster: Cluster, role: str, taken: Collection[str]) -> tuple[str, Cluster]:
    """The next free hostname for ``role`` and the cluster with its counter moved past it.

    A number whose name is already taken (an operator set it with ``machine-set --hostname``) is skipped,
    so two machines never share a hostname.
    """
    count = cluster.role_counters.get(role, 0)
    while True:
        count += 1
        hostname = f"{cluster.name}-{role}-{count}.{cluster.domain}"
        if hostname not in taken:
            break
    label = hostname.split(".", 1)[0]
    if len(label) > 63:
        raise InvalidInput(f"hostname label '{label}' is longer than 63 characters", hint="use shorter cluster or role names")
    names.hostname(hostname)
    return hostname, replace(cluster, role_counters={**cluster.role_counters, role: count})
