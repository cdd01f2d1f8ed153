"""Typed, frozen settings from the INI file and the environment.

The file is ``/etc/openstack-cluster-installer/openstack-cluster-installer.conf`` unless ``OCI_CONFIG`` names
another; when the default file does not exist, every setting has its documented default (docs/configuration.md).
``OCI_STATE_DIR`` overrides ``[state] dir``. Unknown keys in a section OCI reads are refused (they are
typos); sections OCI does not read are left alone.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from oci.errors import ConfigError

DEFAULT_CONFIG = Path("/etc/openstack-cluster-installer/openstack-cluster-installer.conf")
DEFAULT_STATE_DIR = Path("/var/lib/oci")


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


def _bmc_user(text: str) -> str:
    # IPMI user names are at most 16 ASCII characters; this one goes on an ipmitool command line.
    if not 1 <= len(text) <= 16 or not all(c.isascii() and (c.isalnum() or c in "._-") for c in text):
        raise ValueError("1 to 16 characters among letters, digits, '.', '_' and '-'")
    return text


@dataclass(frozen=True, slots=True)
class ConfigKey:
    section: str
    key: str
    default: str
    parse: Callable[[str], object]
    help: str


KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("state", "dir", os.fspath(DEFAULT_STATE_DIR), Path, "state directory (OCI_STATE_DIR overrides it)"),
    ConfigKey("state", "lock_timeout", "60", _positive_float, "seconds a command waits for a lock before giving up"),
    ConfigKey("api", "listen", "127.0.0.1:8080", parse_listen, "address and port oci-api listens on"),
    ConfigKey("api", "threads", "8", _positive_int, "worker threads of oci-api"),
    ConfigKey("api", "tls_certificate", "", lambda t: Path(t) if t else None, "certificate (PEM) to serve HTTPS with; empty: HTTP"),
    ConfigKey("api", "tls_key", "", lambda t: Path(t) if t else None, "private key (PEM) of tls_certificate"),
    ConfigKey("pki", "ca_key_type", "ec-p384", _key_type, "key type of the root and intermediate CAs"),
    ConfigKey("pki", "key_type", "ec-p256", _key_type, "key type of node and API certificates"),
    ConfigKey("pki", "root_days", "7300", _positive_int, "validity of the root CA, in days"),
    ConfigKey("pki", "ca_days", "3650", _positive_int, "validity of the intermediate CA, in days"),
    ConfigKey("pki", "leaf_days", "825", _positive_int, "validity of node and API certificates, in days"),
    ConfigKey(
        "api",
        "trusted_networks",
        "127.0.0.0/8",
        parse_networks,
        "networks whose nodes may post reports and statuses, besides the networks OCI manages",
    ),
    ConfigKey("api", "connections_per_source", "32", _bounded_int(1, 65535), "connections one address may hold open on oci-api"),
    ConfigKey("api", "max_connections", "1000", _bounded_int(1, 100000), "connections oci-api holds open in all; more wait"),
    ConfigKey(
        "api",
        "client_timeout",
        "30",
        _bounded_int(1, 3600),
        "seconds a client has to send a whole request (or oci-api closes its connection), and to read the reply",
    ),
    ConfigKey(
        "api",
        "plain_http_admin_networks",
        "127.0.0.0/8",
        parse_networks,
        "networks admin requests (bearer tokens) are accepted from over plain HTTP; empty: none (HTTPS only)",
    ),
    ConfigKey(
        "api",
        "new_machines_per_source_per_minute",
        "30",
        _positive_int,
        "reports of serials OCI does not know that one address may send in a minute (more: HTTP 429, nothing recorded)",
    ),
    ConfigKey("network", "provisioning_network", "", _optional_network, "the network machines PXE-boot and report from (CIDR)"),
    ConfigKey("network", "oci_ip", "", _optional_address, "the master's address on the provisioning network"),
    ConfigKey("network", "debian_mirror", "http://deb.debian.org/debian", _mirror, "Debian mirror the live image and installed hosts use"),
    ConfigKey("network", "dhcp_range", "", _address_range, "addresses DHCP gives to unknown machines (FIRST-LAST); empty: the upper half"),
    ConfigKey("network", "gateway", "", _optional_address, "router of the provisioning network given by DHCP; empty: none"),
    ConfigKey("network", "dns_servers", "", _addresses, "comma-separated DNS servers given by DHCP; empty: none"),
    ConfigKey("boot", "url", "", _optional_url, "base URL nodes reach OCI at while booting; empty: http://OCI_IP:API_PORT"),
    ConfigKey("boot", "live_dir", "/var/lib/openstack-cluster-installer/live", Path, "folder of vmlinuz, initrd.img, filesystem.squashfs"),
    ConfigKey("boot", "ipxe_dir", "/usr/lib/ipxe", Path, "where the iPXE binaries for the TFTP root come from (Debian's ipxe)"),
    ConfigKey("boot", "kernel_args", "console=tty0 console=ttyS0,115200", str, "extra kernel arguments of the live image"),
    ConfigKey("bmc", "timeout", "10", _positive_float, "seconds one IPMI call may take before it is abandoned"),
    ConfigKey("bmc", "retries", "1", _bounded_int(0, 10), "attempts after the first, for a BMC that did not answer"),
    ConfigKey("bmc", "min_interval", "0.2", _non_negative_float, "seconds between two calls to the same BMC"),
    ConfigKey("bmc", "concurrency", "8", _bounded_int(1, 256), "BMCs check-all-ipmi asks at once"),
    ConfigKey("bmc", "auto_user", "oci", _bmc_user, "user name OCI creates on BMCs it numbers automatically"),
    ConfigKey("bmc", "auto_user_id", "3", _bounded_int(2, 63), "user slot of auto_user in the BMC (slot 2 is often the vendor's admin)"),
    ConfigKey("bmc", "auto_channel", "1", _bounded_int(1, 15), "LAN channel of the BMC that OCI configures"),
    ConfigKey("ssh", "port", "22", _bounded_int(1, 65535), "SSH port of the nodes (live image and installed systems)"),
    ConfigKey("ssh", "connect_timeout", "5", _bounded_int(1, 120), "seconds to wait for a node's SSH server before giving up"),
)


@dataclass(frozen=True, slots=True)
class Config:
    state_dir: Path = DEFAULT_STATE_DIR
    lock_timeout: float = 60.0
    listen: tuple[str, int] = ("127.0.0.1", 8080)
    threads: int = 8
    trusted_networks: tuple[IPv4Network, ...] = (IPv4Network("127.0.0.0/8"),)
    connections_per_source: int = 32
    max_connections: int = 1000
    client_timeout: int = 30
    plain_http_admin_networks: tuple[IPv4Network, ...] = (IPv4Network("127.0.0.0/8"),)
    new_machines_per_source_per_minute: int = 30
    tls_certificate: Path | None = None
    tls_key: Path | None = None
    pki_ca_key_type: str = "ec-p384"
    pki_key_type: str = "ec-p256"
    pki_root_days: int = 7300
    pki_ca_days: int = 3650
    pki_leaf_days: int = 825
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
    bmc_timeout: float = 10.0
    bmc_retries: int = 1
    bmc_min_interval: float = 0.2
    bmc_concurrency: int = 8
    bmc_auto_user: str = "oci"
    bmc_auto_user_id: int = 3
    bmc_auto_channel: int = 1
    ssh_port: int = 22
    ssh_connect_timeout: int = 5
    source: Path | None = None  # the file read, if any


def load(environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    explicit = env.get("OCI_CONFIG")
    path = Path(explicit) if explicit else DEFAULT_CONFIG
    parser = configparser.ConfigParser(interpolation=None)
    source: Path | None = None
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
        source = path
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"configuration file {path} (from OCI_CONFIG) does not exist") from None
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None

    known = {(k.section, k.key) for k in KEYS}
    for section in {k.section for k in KEYS}:
        if parser.has_section(section):
            for key in parser[section]:
                if (section, key) not in known:
                    raise ConfigError(f"{path}: unknown key '{key}' in section [{section}]")

    values: dict[tuple[str, str], object] = {}
    for k in KEYS:
        text = parser.get(k.section, k.key, fallback=k.default)
        try:
            values[(k.section, k.key)] = k.parse(text)
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"{path}: [{k.section}] {k.key} = {text!r}: {exc}") from None

    state_dir = env.get("OCI_STATE_DIR") or values[("state", "dir")]
    return Config(
        state_dir=Path(state_dir),  # type: ignore[arg-type]
        lock_timeout=values[("state", "lock_timeout")],  # type: ignore[arg-type]
        listen=values[("api", "listen")],  # type: ignore[arg-type]
        threads=values[("api", "threads")],  # type: ignore[arg-type]
        trusted_networks=values[("api", "trusted_networks")],  # type: ignore[arg-type]
        connections_per_source=values[("api", "connections_per_source")],  # type: ignore[arg-type]
        max_connections=values[("api", "max_connections")],  # type: ignore[arg-type]
        client_timeout=values[("api", "client_timeout")],  # type: ignore[arg-type]
        plain_http_admin_networks=values[("api", "plain_http_admin_networks")],  # type: ignore[arg-type]
        new_machines_per_source_per_minute=values[("api", "new_machines_per_source_per_minute")],  # type: ignore[arg-type]
        tls_certificate=values[("api", "tls_certificate")],  # type: ignore[arg-type]
        tls_key=values[("api", "tls_key")],  # type: ignore[arg-type]
        pki_ca_key_type=values[("pki", "ca_key_type")],  # type: ignore[arg-type]
        pki_key_type=values[("pki", "key_type")],  # type: ignore[arg-type]
        pki_root_days=values[("pki", "root_days")],  # type: ignore[arg-type]
        pki_ca_days=values[("pki", "ca_days")],  # type: ignore[arg-type]
        pki_leaf_days=values[("pki", "leaf_days")],  # type: ignore[arg-type]
        provisioning_network=values[("network", "provisioning_network")],  # type: ignore[arg-type]
        master_address=values[("network", "oci_ip")],  # type: ignore[arg-type]
        debian_mirror=values[("network", "debian_mirror")],  # type: ignore[arg-type]
        dhcp_range=values[("network", "dhcp_range")],  # type: ignore[arg-type]
        gateway=values[("network", "gateway")],  # type: ignore[arg-type]
        dns_servers=values[("network", "dns_servers")],  # type: ignore[arg-type]
        boot_url=values[("boot", "url")],  # type: ignore[arg-type]
        live_dir=values[("boot", "live_dir")],  # type: ignore[arg-type]
        ipxe_dir=values[("boot", "ipxe_dir")],  # type: ignore[arg-type]
        kernel_args=values[("boot", "kernel_args")],  # type: ignore[arg-type]
        bmc_timeout=values[("bmc", "timeout")],  # type: ignore[arg-type]
        bmc_retries=values[("bmc", "retries")],  # type: ignore[arg-type]
        bmc_min_interval=values[("bmc", "min_interval")],  # type: ignore[arg-type]
        bmc_concurrency=values[("bmc", "concurrency")],  # type: ignore[arg-type]
        bmc_auto_user=values[("bmc", "auto_user")],  # type: ignore[arg-type]
        bmc_auto_user_id=values[("bmc", "auto_user_id")],  # type: ignore[arg-type]
        bmc_auto_channel=values[("bmc", "auto_channel")],  # type: ignore[arg-type]
        ssh_port=values[("ssh", "port")],  # type: ignore[arg-type]
        ssh_connect_timeout=values[("ssh", "connect_timeout")],  # type: ignore[arg-type]
        source=source,
    )
