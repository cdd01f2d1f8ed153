"""Puppet on the master: the Puppet server's configuration (``server.py``) and its CA, which issues each node's
agent certificate at install time (``ca.py``). docs/puppet-runs.md.

Every path derives from ``[puppet] confdir``: the functions below are the one place that says where."""

from __future__ import annotations

from pathlib import Path


def puppet_conf(confdir: Path) -> Path:
    return confdir / "puppet.conf"


def ssldir(confdir: Path) -> Path:
    return confdir / "ssl"


def cadir(confdir: Path) -> Path:
    return confdir / "puppetserver" / "ca"


def server_confd(confdir: Path) -> Path:
    """The Puppet server's own (HOCON) settings, read by ``puppetserver`` from this folder."""
    return confdir / "puppetserver" / "conf.d"
