"""Typed, frozen settings from the INI file and the environment.

The file is ``/etc/openstack-cluster-installer/openstack-cluster-installer.conf`` unless ``OCI_CONFIG`` names
another; when the default file does not exist, every setting has its documented default (docs/configuration.md).
``OCI_STATE_DIR`` overrides ``[state] dir``. Unknown keys in a section OCI reads are refused (they are
typos); sections OCI does not read are left alone.

``KEYS`` is the one table of the settings: ``load()`` fills ``Config`` from it, ``oci-config`` reads and edits
one setting with it (``effective_text``, ``set_text``), and oci.cli.docgen writes docs/configuration.md and the
shipped example from it.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import os
import re
import stat
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, cast

from oci.errors import ConfigError

DEFAULT_CONFIG = Path("/etc/openstack-cluster-installer/openstack-cluster-installer.conf")
DEFAULT_STATE_DIR = Path("/var/lib/oci")
DEFAULT_TEMPLATES_DIR = Path("/etc/openstack-cluster-installer/templates")


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"invalid listen address {text!r}", hint="use ADDRESS:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


def parse_networks(text: str) -> tuple[IPv4Network, ...]:
    try:
        return tuple(IPv4Network(part.strip(), strict=False) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ConfigError(
            f"invalid network list {text!r}: {exc}", hint="comma-separated CIDRs, e.g. 127.0.0.0/8,192.168.100.0/24"
        ) from None


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _key_type(text: str) -> str:
    from oci.pki.x509 import KEY_TYPES  # (cryptography is imported only when the PKI is configured)

    if text not in KEY_TYPES:
        raise ValueError(f"not one of {', '.join(KEY_TYPES)}")
    return text


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}")
        return value

    return parse


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _optional_network(text: str) -> IPv4Network | None:
    return IPv4Network(text, strict=False) if text.strip() else None


def _optional_address(text: str) -> IPv4Address | None:
    return IPv4Address(text) if text.strip() else None


def _mirror(text: str) -> str:
    if not text.startswith(("http://", "https://")) or any(c.isspace() for c in text):
        raise ValueError("an http:// or https:// URL")
    return text.rstrip("/")


def _address_range(text: str) -> tuple[IPv4Address, IPv4Address] | None:
    if not text.strip():
        return None
    first, sep, last = text.partition("-")
    if not sep:
        raise ValueError("FIRST-LAST, e.g. 192.168.100.100-192.168.100.199")
    low, high = IPv4Address(first.strip()), IPv4Address(last.strip())
    if high < low:
        raise ValueError("the last address comes before the first")
    return low, high


def _addresses(text: str) -> tuple[IPv4Address, ...]:
    return tuple(IPv4Address(part.strip()) for part in text.split(",") if part.strip())


def _optional_url(text: str) -> str:
    return _mirror(text) if text.strip() else ""


def _optional_path(text: str) -> Path | None:
    return Path(text) if text else None


def _bmc_user(text: str) -> str:
    # IPMI user names are at most 16 ASCII characters; this one goes on an ipmitool command line.
    if not 1 <= len(text) <= 16 or not all(c.isascii() and (c.isalnum() or c in "._-") for c in text):
        raise ValueError("1 to 16 characters among letters, digits, '.', '_' and '-'")
    return text


def _yes_no(text: str) -> bool:
    if text not in ("yes", "no"):
        raise ValueError("yes or no")
    return text == "yes"


_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*")


def _optional_cluster(text: str) -> str:
    if text and not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", text):
        raise ValueError("a cluster name, or nothing")
    return text


def _optional_host(text: str) -> str:
    if text and (len(text) > 253 or not _HOST.fullmatch(text)):
        raise ValueError("a host name or an IPv4 address")
    return text


@dataclass(frozen=True, slots=True)
class ConfigKey:
    """One setting: where it is in the file, the ``Config`` field it fills, its default as written in the file,
    the parser that turns the file's text into the field's value (and refuses bad text), and what it means
    (docs/configuration.md and the shipped example are generated from ``help``: oci.cli.docgen)."""

    section: str
    key: str
    field: str
    default: str
    parse: Callable[[str], object]
    help: str


# The one declaration of the settings, grouped by section in the order the documentation shows them.
KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("state", "dir", "state_dir", os.fspath(DEFAULT_STATE_DIR), Path,
              "state directory (docs/state.md); `OCI_STATE_DIR` overrides it"),
    ConfigKey("state", "lock_timeout", "lock_timeout", "60", _positive_float,
              "seconds a command waits for a lock held by another before giving up"),
    ConfigKey("api", "listen", "listen", "127.0.0.1:8080", parse_listen,
              "address and port of `oci-api`; `oci-api --listen` overrides it. Nodes report and boot over plain HTTP: to "
              "serve them, listen on the master's provisioning address (e.g. 192.168.100.2:8080)"),
    ConfigKey("api", "threads", "threads", "8", _positive_int, "worker threads of `oci-api`; `oci-api --threads` overrides it"),
    ConfigKey("api", "tls_certificate", "tls_certificate", "", _optional_path,
              "PEM certificate `oci-api` serves HTTPS with (`--tls-cert` overrides it); empty: plain HTTP"),
    ConfigKey("api", "tls_key", "tls_key", "", _optional_path, "PEM private key of `tls_certificate` (`--tls-key` overrides it)"),
    ConfigKey("api", "plain_http_admin_networks", "plain_http_admin_networks", "127.0.0.0/8", parse_networks,
              "comma-separated networks admin requests (bearer tokens) are accepted from over plain HTTP; elsewhere they "
              "get a 403 saying to use HTTPS; empty: none (HTTPS only). Applies to Apache too (it tells the application "
              "whether the request came over TLS)"),
    ConfigKey("api", "connections_per_source", "connections_per_source", "32", _bounded_int(1, 65535),
              "connections one address may hold open on `oci-api` (1-65535); more are refused at once (429 over HTTP, "
              "closed over HTTPS)"),
    ConfigKey("api", "max_connections", "max_connections", "1000", _bounded_int(1, 100000),
              "connections `oci-api` holds open in all (1-100000); more wait in the kernel's queue until one ends. "
              "`oci-api` raises its descriptor limit to fit"),
    ConfigKey("api", "client_timeout", "client_timeout", "30", _bounded_int(1, 3600),
              "seconds a client has to send a whole request (over HTTPS from its connection, TLS handshake included; "
              "over HTTP from the request's first byte, and an idle connection lasts as long) and to take each part of "
              "the reply (1-3600); slower clients are disconnected (docs/security.md)"),
    ConfigKey("api", "trusted_networks", "trusted_networks", "127.0.0.0/8", parse_networks,
              "comma-separated networks whose nodes may post reports and statuses (no token), besides every network OCI "
              "manages; add the provisioning (PXE) network"),
    ConfigKey("api", "new_machines_per_source_per_minute", "new_machines_per_source_per_minute", "30", _positive_int,
              "reports of serials OCI does not know that one source address may send in a minute; beyond, HTTP 429 and "
              "nothing is recorded (counted in memory by each `oci-api` process; docs/security.md)"),
    ConfigKey("network", "provisioning_network", "provisioning_network", "", _optional_network,
              "the network machines PXE-boot and report from (CIDR); set by `dpkg-reconfigure openstack-cluster-installer` "
              "(docs/packaging.md); empty: not configured yet"),
    ConfigKey("network", "oci_ip", "master_address", "", _optional_address,
              "the master's address on the provisioning network; set with `provisioning_network`"),
    ConfigKey("network", "debian_mirror", "debian_mirror", "http://deb.debian.org/debian", _mirror,
              "the Debian mirror of the live image and installed hosts"),
    ConfigKey("network", "dhcp_range", "dhcp_range", "", _address_range,
              "addresses DHCP gives to unknown machines on the provisioning network (FIRST-LAST); empty: the upper half of "
              "the network (docs/boot.md)"),
    ConfigKey("network", "gateway", "gateway", "", _optional_address, "router of the provisioning network given by DHCP; empty: none"),
    ConfigKey("network", "dns_servers", "dns_servers", "", _addresses, "comma-separated DNS servers given by DHCP; empty: none"),
    ConfigKey("boot", "url", "boot_url", "", _optional_url,
              "base URL booting nodes reach OCI at (iPXE scripts, the live image); empty: http://OCI_IP:API_PORT"),
    ConfigKey("boot", "live_dir", "live_dir", "/var/lib/openstack-cluster-installer/live", Path,
              "folder of the live image: vmlinuz, initrd.img and filesystem.squashfs (`make live-image`)"),
    ConfigKey("boot", "ipxe_dir", "ipxe_dir", "/usr/lib/ipxe", Path,
              "where the iPXE binaries copied into the TFTP root come from (Debian's ipxe package)"),
    ConfigKey("boot", "kernel_args", "kernel_args", "console=tty0 console=ttyS0,115200", str, "extra kernel arguments of the live image"),
    ConfigKey("templates", "dir", "templates_dir", os.fspath(DEFAULT_TEMPLATES_DIR), Path,
              "folder of operator templates: a file here replaces the shipped template of the same name (docs/templates.md)"),
    ConfigKey("pki", "ca_key_type", "pki_ca_key_type", "ec-p384", _key_type,
              "key type of the root and intermediate CAs (`ec-p256`, `ec-p384`, `rsa-2048`, `rsa-3072`, `rsa-4096`)"),
    ConfigKey("pki", "key_type", "pki_key_type", "ec-p256", _key_type, "key type of node and API certificates"),
    ConfigKey("pki", "root_days", "pki_root_days", "7300", _positive_int, "validity of the root CA, in days"),
    ConfigKey("pki", "ca_days", "pki_ca_days", "3650", _positive_int, "validity of the intermediate CA, in days"),
    ConfigKey("pki", "leaf_days", "pki_leaf_days", "825", _positive_int, "validity of node and API certificates, in days"),
    ConfigKey("bmc", "timeout", "bmc_timeout", "10", _positive_float, "seconds one IPMI call may take before it is abandoned"),
    ConfigKey("bmc", "retries", "bmc_retries", "1", _bounded_int(0, 10), "attempts after the first, for a BMC that did not answer (0-10)"),
    ConfigKey("bmc", "min_interval", "bmc_min_interval", "0.2", _non_negative_float,
              "seconds between two calls to the same BMC (BMCs wedge under frequent polling; every process of OCI honours it)"),
    ConfigKey("bmc", "concurrency", "bmc_concurrency", "8", _bounded_int(1, 256), "BMCs `check-all-ipmi` asks at once (1-256)"),
    ConfigKey("bmc", "auto_user", "bmc_auto_user", "oci", _bmc_user, "user name OCI creates on the BMCs it numbers (docs/bmc.md)"),
    ConfigKey("bmc", "auto_user_id", "bmc_auto_user_id", "3", _bounded_int(2, 63),
              "user slot of `auto_user` in the BMC (2-63; slot 2 is often the vendor's admin)"),
    ConfigKey("bmc", "auto_channel", "bmc_auto_channel", "1", _bounded_int(1, 15), "LAN channel of the BMC that OCI configures (1-15)"),
    ConfigKey("ssh", "port", "ssh_port", "22", _bounded_int(1, 65535), "SSH port of the nodes (live image and installed systems)"),
    ConfigKey("ssh", "connect_timeout", "ssh_connect_timeout", "5", _bounded_int(1, 120),
              "seconds to wait for a node's SSH server before falling back on the BMC (1-120)"),
    ConfigKey("install", "package_cache", "package_cache", "yes", _yes_no,
              "`yes`: installed hosts and debootstrap fetch Debian packages through the master's apt-cacher-ng on `oci_ip` "
              "(docs/install.md); `no`: straight from the cluster's `debian_mirror`"),
    ConfigKey("install", "package_cache_port", "package_cache_port", "3142", _bounded_int(1, 65535),
              "port of the package cache (apt-cacher-ng's default is 3142)"),
    ConfigKey("install", "minimum_disk_gib", "install_minimum_disk_gib", "8", _bounded_int(1, 1 << 20),
              "smallest disk an install accepts, in GiB; `machine-install-os` refuses a smaller one"),
    ConfigKey("install", "extras_dir", "install_extras_dir", "/etc/openstack-cluster-installer/install-extras", Path,
              "the operator's extras: `clusters/<cluster>/` and `machines/<serial>/`, each with a `packages` list and a "
              "`files/` tree copied onto the target (docs/install.md)"),
    ConfigKey("install", "hardware_profiles", "hardware_profiles", "/etc/openstack-cluster-installer/hardware-profiles.yaml", Path,
              "the hardware profiles: which servers take which role and disk layout (docs/profiles.md); absent: none"),
    ConfigKey("install", "puppet_server", "puppet_server", "", _optional_host,
              "the name installed hosts reach the Puppet server at (their puppet.conf `server`); empty: the host of "
              "the master's URL for nodes (`[boot] url`, else `oci_ip`)"),
    ConfigKey("puppet", "confdir", "puppet_confdir", "/etc/puppet", Path,
              "the master's Puppet configuration folder: the Puppet server's `puppet.conf`, and its CA, which issues "
              "each node's agent certificate at install time (docs/puppet-runs.md)"),
    ConfigKey("puppet", "listen", "puppet_listen", "0.0.0.0:8140", parse_listen,
              "address and port the Puppet server listens on (its webserver.conf, written by `oci-puppet-setup`)"),
    ConfigKey("puppet", "first_run_attempts", "puppet_first_run_attempts", "3", _bounded_int(1, 10),
              "runs of `puppet agent --test` at a node's first boot before it reports `puppet-failure` (1-10)"),
    ConfigKey("puppet", "first_run_timeout", "puppet_first_run_timeout", "3600", _bounded_int(60, 86400),
              "seconds one first-boot Puppet run may take before it is stopped and counted as failed (60-86400)"),
    ConfigKey("fleet", "racking_rules", "racking_rules", "/etc/openstack-cluster-installer/racking.yaml", Path,
              "which rack a server is in, from the switch ports LLDP shows (docs/racking.md); absent: no racking"),
    ConfigKey("fleet", "auto_add_cluster", "auto_add_cluster", "", _optional_cluster,
              "the cluster `machine-auto-add` enrols machines in when none is given, and the automatic enrolment always "
              "(docs/automation.md); empty: none"),
    ConfigKey("fleet", "auto_rack_after", "auto_rack_after", "0", _bounded_int(0, 1000),
              "racks a live machine (`machine-auto-rack`) at its Nth report with the same hardware; 0: never"),
    ConfigKey("fleet", "auto_add_after", "auto_add_after", "0", _bounded_int(0, 1000),
              "enrols a live machine (`machine-auto-add`) in `auto_add_cluster` at its Nth report with the same hardware; 0: never"),
    ConfigKey("fleet", "auto_install_after", "auto_install_after", "0", _bounded_int(0, 1000),
              "installs an enrolled live machine (`machine-install-os`) at its Nth report with the same hardware; 0: never"),
)  # fmt: skip


# Config is written out rather than made from KEYS with dataclasses.make_dataclass: mypy cannot see the fields
# of a class made at run time, and every ``cfg.threads`` in the library would become unchecked. The price is
# a second list of names, which tests/unit/test_config.py holds to KEYS exactly (the same fields in the same
# order, each default the parse of the key's default text, each parsed value of the field's type).
@dataclass(frozen=True, slots=True)
class Config:
    state_dir: Path = DEFAULT_STATE_DIR
    lock_timeout: float = 60.0
    listen: tuple[str, int] = ("127.0.0.1", 8080)
    threads: int = 8
    tls_certificate: Path | None = None
    tls_key: Path | None = None
    plain_http_admin_networks: tuple[IPv4Network, ...] = (IPv4Network("127.0.0.0/8"),)
    connections_per_source: int = 32
    max_connections: int = 1000
    client_timeout: int = 30
    trusted_networks: tuple[IPv4Network, ...] = (IPv4Network("127.0.0.0/8"),)
    new_machines_per_source_per_minute: int = 30
    provisioning_network: IPv4Network | None = None
    master_address: IPv4Address | None = None
    debian_mirror: str = "http://deb.debian.org/debian"
    dhcp_range: tuple[IPv4Address, IPv4Address] | None = None
    gateway: IPv4Address | None = None
    dns_servers: tuple[IPv4Address, ...] = ()
    boot_url: str = ""
    live_dir: Path = Path("/var/lib/openstack-cluster-installer/live")
    ipxe_dir: Path = Path("/usr/lib/ipxe")
    kernel_args: str = "console=tty0 console=ttyS0,115200"
    templates_dir: Path = DEFAULT_TEMPLATES_DIR
    pki_ca_key_type: str = "ec-p384"
    pki_key_type: str = "ec-p256"
    pki_root_days: int = 7300
    pki_ca_days: int = 3650
    pki_leaf_days: int = 825
    bmc_timeout: float = 10.0
    bmc_retries: int = 1
    bmc_min_interval: float = 0.2
    bmc_concurrency: int = 8
    bmc_auto_user: str = "oci"
    bmc_auto_user_id: int = 3
    bmc_auto_channel: int = 1
    ssh_port: int = 22
    ssh_connect_timeout: int = 5
    package_cache: bool = True
    package_cache_port: int = 3142
    install_minimum_disk_gib: int = 8
    install_extras_dir: Path = Path("/etc/openstack-cluster-installer/install-extras")
    hardware_profiles: Path = Path("/etc/openstack-cluster-installer/hardware-profiles.yaml")
    puppet_server: str = ""
    puppet_confdir: Path = Path("/etc/puppet")
    puppet_listen: tuple[str, int] = ("0.0.0.0", 8140)  # noqa: S104 (nodes reach it on the provisioning network)
    puppet_first_run_attempts: int = 3
    puppet_first_run_timeout: int = 3600
    racking_rules: Path = Path("/etc/openstack-cluster-installer/racking.yaml")
    auto_add_cluster: str = ""
    auto_rack_after: int = 0
    auto_add_after: int = 0
    auto_install_after: int = 0
    source: Path | None = None  # the file read, if any


def path_of(env: Mapping[str, str]) -> Path:
    """The configuration file: the one ``OCI_CONFIG`` names, or the default."""
    return Path(env["OCI_CONFIG"]) if env.get("OCI_CONFIG") else DEFAULT_CONFIG


def read(env: Mapping[str, str]) -> tuple[configparser.ConfigParser, Path | None]:
    """The file's settings and the file read (None: the default file does not exist, so every key has its
    default), after refusing unknown keys in the sections OCI reads."""
    path = path_of(env)
    parser = configparser.ConfigParser(interpolation=None)
    source: Path | None = None
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
        source = path
    except FileNotFoundError:
        if env.get("OCI_CONFIG"):
            raise ConfigError(f"configuration file {path} (from OCI_CONFIG) does not exist") from None
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None

    known = {(k.section, k.key) for k in KEYS}
    for section in {k.section for k in KEYS}:
        if parser.has_section(section):
            for name in parser[section]:
                if (section, name) not in known:
                    raise ConfigError(f"{path}: unknown key '{name}' in section [{section}]")
    return parser, source


def load(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    parser, source = read(env)
    path = path_of(env)
    values: dict[str, object] = {}
    for k in KEYS:
        text = parser.get(k.section, k.key, fallback=k.default)
        values[k.field] = parse_value(k, text, path)
    if env.get("OCI_STATE_DIR"):
        values["state_dir"] = Path(env["OCI_STATE_DIR"])
    # Each parser returns its field's type (tests/unit/test_config.py checks it), which mypy cannot see.
    return Config(**cast(dict[str, Any], values), source=source)


def parse_value(k: ConfigKey, text: str, path: Path) -> object:
    """``text`` as the value of ``k``, or a one-line error naming the file, the section and the key."""
    try:
        return k.parse(text)
    except (ValueError, ConfigError) as exc:
        raise ConfigError(f"{path}: [{k.section}] {k.key} = {text!r}: {exc}") from None


def key(section: str, name: str) -> ConfigKey:
    """The setting ``name`` of ``[section]`` (names are case-insensitive, as in the file)."""
    for k in KEYS:
        if k.section == section and k.key == name.lower():
            return k
    raise ConfigError(f"unknown key '{name}' in section [{section}]", hint="docs/configuration.md lists the keys")


def effective_text(section: str, name: str, environ: Mapping[str, str] | None = None) -> str:
    """The text of a setting as OCI reads it: from the file (``OCI_CONFIG`` or the default), else its default;
    ``OCI_STATE_DIR`` for ``[state] dir``. Refused, like ``load``, when OCI would refuse it."""
    env = os.environ if environ is None else environ
    k = key(section, name)
    parser, _ = read(env)
    text = parser.get(k.section, k.key, fallback=k.default)
    if (k.section, k.key) == ("state", "dir") and env.get("OCI_STATE_DIR"):
        text = env["OCI_STATE_DIR"]
    parse_value(k, text, path_of(env))
    return text


_SECTION = re.compile(r"\s*\[(?P<name>[^]]+)\]")
_ASSIGNMENT = re.compile(r"(?P<key>[^#;\s][^=:]*?)\s*[=:]")  # configparser's delimiters, no indentation (else a continuation)


def set_text(section: str, name: str, text: str, environ: Mapping[str, str] | None = None) -> bool:
    """Set a setting in the file (``OCI_CONFIG`` or the default), which must exist: the key's line is replaced,
    or added at the end of its section, or the section is added at the end; every other line (comments, other
    keys and sections) is kept. The value is checked by the key's parser first; the file is replaced
    atomically, keeping its owner and mode, and only when it changes. True if it changed."""
    env = os.environ if environ is None else environ
    k = key(section, name)
    path = path_of(env)
    if text != text.strip() or any(not c.isprintable() for c in text):
        raise ConfigError(f"[{k.section}] {k.key}: a value is one line, without control characters or surrounding spaces")
    parse_value(k, text, path)
    try:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise ConfigError(f"cannot open {path.parent}: {exc.strerror}") from None
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)  # two writers would each lose the other's change
        if not path.is_file():  # even the default one: there is no file of defaults to start from here
            raise ConfigError(f"configuration file {path} does not exist")
        read(env)  # a file OCI would refuse (not INI, an unknown key) is refused before anything is written
        before = path.read_text(encoding="utf-8")
        after = _with_setting(before, k, text)
        if after == before:
            return False
        _replace(path, after.encode("utf-8"), folder)
        return True
    finally:
        os.close(folder)


def _with_setting(document: str, k: ConfigKey, text: str) -> str:
    lines = document.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    line = f"{k.key} = {text}".rstrip() + "\n"
    section = ""
    end_of_section: int | None = None  # after the last non-blank line of k.section
    out: list[str] = []
    replaced = skipping = False
    for current in lines:
        if skipping and current[:1].isspace() and current.strip():
            continue  # the replaced value's continuation lines
        skipping = False
        heading = _SECTION.match(current)
        assignment = _ASSIGNMENT.match(current)
        if heading:
            section = heading["name"].strip()
        elif section == k.section and assignment and assignment["key"].strip().lower() == k.key:
            if not replaced:
                out.append(line)
            replaced = skipping = True
            continue
        out.append(current)
        if section == k.section and current.strip():
            end_of_section = len(out)
    if replaced:
        return "".join(out)
    if end_of_section is not None:
        out.insert(end_of_section, line)
        return "".join(out)
    return "".join(out) + ("\n" if out and out[-1].strip() else "") + f"[{k.section}]\n{line}"


def _replace(path: Path, data: bytes, folder: int) -> None:
    current = os.stat(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            os.fchmod(fd, stat.S_IMODE(current.st_mode))
            os.fchown(fd, current.st_uid, current.st_gid)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
        os.fsync(folder)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
