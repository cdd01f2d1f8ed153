"""The master's package cache (apt-cacher-ng, ``[install] package_cache``): where nodes reach it, and a Debian
archive's URL through it. The install's apt sources, the live image's and the ENC's ``debian_mirror`` all use
these, so an installed node fetches from one place whether the installer or Puppet configured its apt."""

from __future__ import annotations

from pathlib import Path

from oci.config import Config
from oci.errors import Conflict
from oci.templates import Templates, shipped


def package_cache(cfg: Config) -> str | None:
    """Where nodes reach the master's apt-cacher-ng (``http://HOST:PORT``), None when ``[install] package_cache``
    is off."""
    if not cfg.package_cache:
        return None
    if cfg.master_address is None:
        raise Conflict(
            "the package cache is on but the master's address is unknown", hint="set [network] oci_ip or [install] package_cache = no"
        )
    return f"http://{cfg.master_address}:{cfg.package_cache_port}"


def cached_url(cache: str, url: str) -> str:
    """``url`` of a Debian archive as fetched through the apt-cacher-ng at ``cache``: its URL forms are
    http://CACHE/host/path, with HTTPS/// before the host for an https archive."""
    scheme, rest = url.split("://", 1)
    return f"{cache.rstrip('/')}/" + ("HTTPS///" if scheme == "https" else "") + rest


def through_cache(cfg: Config, url: str) -> str:
    """``url`` of a Debian archive as fetched through the master's apt-cacher-ng (``[install] package_cache``)."""
    cache = package_cache(cfg)
    return url if cache is None else cached_url(cache, url)


def apt_cacher_ng_conf(cache_dir: Path, log_dir: Path, address: str, port: int, socket: Path, templates: Templates | None = None) -> str:
    """The configuration of an apt-cacher-ng of its own (the PoCs', the tests'): in the foreground, on ``address``
    and ``port``, its cache in ``cache_dir`` (an installed master runs Debian's service instead)."""
    variables = {"cache_dir": str(cache_dir), "log_dir": str(log_dir), "address": address, "port": port, "socket": str(socket)}
    return (templates or shipped()).render("apt-cacher-ng.conf.j2", variables)
