"""Declarative tables of the per-cluster and per-machine settings.

One table drives everything about a setting: the type check when a state file is loaded, the
``cluster-set``/``machine-set`` options, the ``--help`` text and the effective value shown by ``*-show``.
Only values an operator set are stored; everything else is the table's default, so a new release can
improve a default without rewriting state files.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from oci import names, values
from oci.errors import InvalidInput

Value = str | int | bool | float


class Kind(StrEnum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    FQDN = "fqdn"
    IPV4 = "ipv4"
    IP = "ip"
    CHOICE = "choice"
    UUID = "uuid"
    # Text settings, each checked by what it is: they travel into Puppet parameters, configuration files and
    # command lines on the nodes, where a path, a space or a newline in the wrong place does damage.
    NAME = "name"  # one word: a region, a release, a CPU model, a network name
    NAMES = "names"  # comma-separated words: CPU flags
    UUIDS = "uuids"  # comma-separated UUIDs
    URL = "url"  # http:// or https://
    DEVICE = "device"  # a block device's kernel name
    TTY = "tty"  # a serial console's kernel name
    TEXT = "text"  # free text for people: printable, one line


_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_WORD = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_FLAG = "[+-]?[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
MAX_TEXT = 255
# (pattern, what the setting expects) for the kinds a regular expression decides; the empty value is
# handled before (allowed when it is the default, as for the FQDN and address kinds).
_PATTERNS: dict[Kind, tuple[re.Pattern[str], str]] = {
    Kind.UUID: (re.compile(_UUID), "a lowercase UUID"),
    Kind.NAME: (re.compile(_WORD), "one word of 1-64 letters, digits, '.', '_' or '-'"),
    Kind.NAMES: (re.compile(f"{_FLAG}(,{_FLAG})*"), "comma-separated words of letters, digits, '.', '_' or '-', each with an optional +/-"),
    Kind.UUIDS: (re.compile(f"{_UUID}(,{_UUID})*"), "comma-separated lowercase UUIDs"),
    # Kernel names: sda, vdb, nvme0n1, mmcblk0, md0, dm-1. No '/', no '.': never a path.
    Kind.DEVICE: (re.compile("[a-z][a-z0-9_-]{0,31}"), "a block device name such as sda or nvme0n1 (no /dev/, no path)"),
    # ttyS0, ttyAMA0, ttyUSB1, hvc0; or none.
    Kind.TTY: (re.compile("tty[A-Za-z]{0,8}[0-9]{1,3}|hvc[0-9]{1,3}|none"), "a serial tty name such as ttyS0, ttyAMA0 or hvc0, or none"),
}
# RFC 3986's unreserved and delimiter characters, without the quotes, '$', ';', '!', '*' and brackets
# of sub-delims that a shell or a configuration file would read: a mirror URL needs none of them.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9._~:/?#\[\]@&=+,%-]+")


def _url_problem(value: str) -> str | None:
    """Why ``value`` is not an http(s) URL OCI can hand to apt or HAProxy, or None."""
    if not value:
        return "an http:// or https:// URL"
    if len(value) > MAX_TEXT or not _URL_CHARACTERS.fullmatch(value):
        return f"a URL of at most {MAX_TEXT} characters among letters, digits and ._~:/?#[]@&=+,%- (no space, no quote)"
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "an http:// or https:// URL with a host"
    try:
        host = parts.hostname
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        return "a URL with a valid port"
    if not host:
        return "an http:// or https:// URL with a host"
    return None


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    kind: Kind
    default: Value | None
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    aliases: tuple[str, ...] = ()  # other options for it: OCI 42's spellings (``--dc`` for loc_dc)
    # Why it changes nothing in this release, for a setting kept so OCI 42's scripts still run; "" when it has
    # an effect. ocicli says so when it is set, --help marks it, docs/differences.md lists them.
    no_effect: str = ""

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, text: str) -> Value:
        """Turn command-line text into a typed value, or raise a one-line error."""
        if self.kind is Kind.BOOL:
            if text not in ("yes", "no"):
                raise InvalidInput(f"{self.option}: {_show(text)}: expected yes or no")
            return text == "yes"
        if self.kind is Kind.INT:
            number: int | float | None = values.integer(text)
            if number is None:  # ASCII digits only: int() would take "٣" or "1_000"
                raise InvalidInput(f"{self.option}: {_show(text)}: expected an integer (digits 0-9)")
            return self.check(number)
        if self.kind is Kind.FLOAT:
            number = values.number(text)
            if number is None:  # float() would take "nan", "inf", "1e999"
                raise InvalidInput(f"{self.option}: {_show(text)}: expected a finite decimal number such as 1.5")
            return self.check(number)
        return self.check(text)

    def _check_range(self, value: int | float) -> None:
        if self.minimum is not None and value < self.minimum:
            raise InvalidInput(f"{self.option}: {value} is below {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise InvalidInput(f"{self.option}: {value} is above {self.maximum}")

    def check(self, value: object) -> Value:
        """Check a typed value (from a state file or from ``parse``)."""
        where = self.option
        if self.kind is Kind.BOOL:
            if type(value) is not bool:
                raise InvalidInput(f"{where}: expected a boolean, got {_show(value)}")
            return value
        if self.kind is Kind.INT:
            if type(value) is not int:
                raise InvalidInput(f"{where}: expected an integer, got {_show(value)}")
            self._check_range(value)
            return value
        if self.kind is Kind.FLOAT:
            number = values.finite(value) if type(value) in (int, float) else None  # type: ignore[arg-type]
            if number is None:
                raise InvalidInput(f"{where}: expected a finite number, got {_show(value)}")
            self._check_range(number)
            return number
        if type(value) is not str:
            raise InvalidInput(f"{where}: expected text, got {_show(value)}")
        if self.kind is Kind.FQDN:
            if value:
                names.fqdn(value, kind=f"{where} value")
        elif self.kind in (Kind.IPV4, Kind.IP):
            if value:
                try:
                    (ipaddress.IPv4Address if self.kind is Kind.IPV4 else ipaddress.ip_address)(value)
                except ValueError:
                    raise InvalidInput(f"{where}: {_show(value)} is not an IP address") from None
        elif self.kind is Kind.CHOICE:
            if value not in self.choices:
                raise InvalidInput(f"{where}: {_show(value)} is not one of {', '.join(self.choices)}")
        elif not value and self.default == "":
            pass  # unset: the empty default
        elif self.kind is Kind.URL:
            problem = _url_problem(value)
            if problem:
                raise InvalidInput(f"{where}: {_show(value)}: expected {problem}")
        elif self.kind is Kind.TEXT:
            if len(value) > MAX_TEXT or not value.isprintable():  # isprintable: no control, format or separator character
                raise InvalidInput(f"{where}: {_show(value)}: expected one line of printable text, at most {MAX_TEXT} characters")
        else:
            pattern, expected = _PATTERNS[self.kind]
            if not pattern.fullmatch(value):
                raise InvalidInput(f"{where}: {_show(value)}: expected {expected}")
        return value


def _show(value: object) -> str:
    shown = ascii(value) if type(value) is not int or abs(value) < 10**40 else "a huge integer"
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _table(*settings: Setting, no_effect: Mapping[str, str] | None = None) -> dict[str, Setting]:
    reasons = no_effect or {}
    unknown = set(reasons) - {s.name for s in settings}
    assert not unknown, unknown  # a reason for a setting that is not in the table
    return {s.name: replace(s, no_effect=reasons.get(s.name, "")) for s in settings}


S, K = Setting, Kind
CPU_MODES = ("host-model", "host-passthrough", "custom")

L2_AGENTS = ("openvswitch", "linuxbridge")
# Why a setting kept from OCI 42 does nothing here (Setting.no_effect), where several share a reason.
_IPV4_ONLY = "the nodes' networks are IPv4: they get the IPv4 resolvers only"
_NO_BARBICAN = "Barbican is not deployed: objects are not encrypted at rest"
_NO_METRICS = "no metrics are sent"
_NO_OCTAVIA = "Octavia is not deployed by OCI's Puppet classes"
CLUSTER_SETTINGS: Mapping[str, Setting] = _table(
    S("region_name", K.NAME, "RegionOne", "OpenStack region name"),
    S("vip_hostname", K.FQDN, "", "API endpoint hostname (default <cluster>-api.<domain>)"),
    S("initial_cluster_setup", K.BOOL, True, "one-time bootstrap actions are still to be done"),
    S("self_signed_api_cert", K.BOOL, True, "the API certificate comes from OCI's own PKI"),
    S("time_server_host", K.FQDN, "0.debian.pool.ntp.org", "NTP server of the nodes"),
    S("nameserver_v4_primary", K.IPV4, "9.9.9.9", "first IPv4 DNS resolver of the nodes"),
    S("nameserver_v4_secondary", K.IPV4, "8.8.8.8", "second IPv4 DNS resolver of the nodes"),
    S("nameserver_v6_primary", K.IP, "", "first IPv6 DNS resolver of the nodes"),
    S("nameserver_v6_secondary", K.IP, "", "second IPv6 DNS resolver of the nodes"),
    S("swift_part_power", K.INT, 19, "Swift ring partition power", minimum=1, maximum=32),
    S("swift_replicas", K.INT, 3, "Swift replica count", minimum=1, maximum=10),
    S("swift_proxy_hostname", K.FQDN, "", "public hostname of the Swift proxies"),
    S("swift_encryption_key_id", K.UUID, "", "Barbican key id for Swift on-disk encryption"),
    S("swift_disable_encryption", K.BOOL, True, "do not encrypt Swift objects at rest"),
    S("statsd_hostname", K.FQDN, "", "statsd server for Swift metrics"),
    S("disable_notifications", K.BOOL, False, "disable oslo notifications"),
    S("enable_monitoring_graphs", K.BOOL, False, "send metrics to graphite"),
    S("monitoring_graphite_host", K.FQDN, "", "graphite server"),
    S("monitoring_graphite_port", K.INT, 2003, "graphite port", minimum=1, maximum=65535),
    S("nested_virt", K.BOOL, False, "allow nested virtualisation on computes"),
    S("use_ovs_ifaces", K.BOOL, False, "build bonds with Open vSwitch instead of the kernel"),
    S("cpu_mode", K.CHOICE, "host-passthrough", "libvirt CPU mode", choices=CPU_MODES),
    S("virt_type", K.CHOICE, "kvm", "libvirt virt_type of computes: qemu emulates, without KVM", choices=("kvm", "qemu")),
    S("cpu_model", K.NAME, "", "libvirt CPU model when cpu_mode is custom"),
    S("cpu_model_extra_flags", K.NAMES, "", "extra libvirt CPU flags"),
    S("bgp_to_the_host", K.BOOL, False, "route node networks with BGP instead of bonds"),
    S("asn", K.INT, 64496, "BGP autonomous system number", minimum=1, maximum=4294967295),
    S("install_designate", K.BOOL, False, "install Designate (DNS as a service)"),
    S("install_octavia", K.BOOL, True, "install Octavia (load balancers)"),
    S("install_telemetry", K.BOOL, True, "install the telemetry services when Ceph is present"),
    S("glance_prefer_ceph_over_swift", K.BOOL, True, "Glance stores images in Ceph when both exist"),
    S("cinder_backup_prefer_swift", K.BOOL, True, "Cinder backups go to Swift when both exist"),
    S("neutron_l2_agent", K.CHOICE, "openvswitch", "Neutron L2 agent (linuxbridge: no Open vSwitch kernel module)", choices=L2_AGENTS),
    S("neutron_vxlan_vni_min", K.INT, 1000, "lowest VXLAN VNI", minimum=1, maximum=16777215),
    S("neutron_vxlan_vni_max", K.INT, 9999, "highest VXLAN VNI", minimum=1, maximum=16777215),
    S("haproxy_custom_url", K.URL, "", "extra URL served by HAProxy"),
    S("amp_secgroup_list", K.UUIDS, "", "Octavia amphora security group UUIDs, comma-separated"),
    S("amp_boot_network_list", K.UUIDS, "", "Octavia amphora boot network UUIDs, comma-separated"),
    S("generate_root_ssh_keys", K.BOOL, False, "give every node a root SSH keypair"),
    S("cephosd_automatic_provisionning", K.BOOL, True, "prepare Ceph OSD disks automatically"),
    S("debian_mirror", K.URL, "http://deb.debian.org/debian", "Debian mirror of the nodes"),
    S("debian_release", K.NAME, "bookworm", "Debian release of the nodes"),
    no_effect={
        "self_signed_api_cert": "the API certificate always comes from OCI's PKI; an operator's own is not supported yet",
        "nameserver_v6_primary": _IPV4_ONLY,
        "nameserver_v6_secondary": _IPV4_ONLY,
        "swift_proxy_hostname": "Swift is served on the API name, port 8080 (docs/swift.md)",
        "swift_encryption_key_id": _NO_BARBICAN,
        "swift_disable_encryption": _NO_BARBICAN,
        "statsd_hostname": _NO_METRICS,
        "disable_notifications": "no service sends notifications: nothing would consume them (no telemetry)",
        "enable_monitoring_graphs": _NO_METRICS,
        "monitoring_graphite_host": _NO_METRICS,
        "monitoring_graphite_port": _NO_METRICS,
        "asn": "BGP to the host is not supported by oci-netconf yet (bgp_to_the_host is refused)",
        "install_designate": "Designate is not deployed by OCI's Puppet classes",
        "install_octavia": _NO_OCTAVIA,
        "amp_secgroup_list": _NO_OCTAVIA,
        "amp_boot_network_list": _NO_OCTAVIA,
        "install_telemetry": "the telemetry services are not deployed by OCI's Puppet classes",
        "haproxy_custom_url": "HAProxy serves the OpenStack APIs only",
        "generate_root_ssh_keys": "root logs in with keys the cluster's SSH CA signs, not with a shared key pair",
        "cephosd_automatic_provisionning": "Ceph OSDs are always prepared from their data disks",
        "cinder_backup_prefer_swift": "Cinder's backup service is not deployed by OCI's Puppet classes",
    },
)

MACHINE_SETTINGS: Mapping[str, Setting] = _table(
    S("notes", K.TEXT, "", "free text about the machine"),
    S("dest_blk", K.DEVICE, "none", "disk to install on ('none' picks the first disk)"),
    S("install_on_raid", K.BOOL, False, "install on a software RAID"),
    S("raid_type", K.CHOICE, "1", "software RAID level", choices=("0", "1", "5", "10")),
    S("raid_dev0", K.DEVICE, "sda", "first RAID member"),
    S("raid_dev1", K.DEVICE, "sdb", "second RAID member"),
    S("raid_dev2", K.DEVICE, "sdc", "third RAID member"),
    S("raid_dev3", K.DEVICE, "sdd", "fourth RAID member"),
    S(
        "hardware_raid",
        K.CHOICE,
        "none",
        "hardware RAID level of the system disk, built before the install (docs/install.md)",
        choices=("none", "0", "1", "5", "6", "10"),
    ),
    S("hardware_raid_drives", K.INT, 2, "drives of the hardware RAID", minimum=1, maximum=32),
    S("hardware_raid_drive_kind", K.CHOICE, "any", "kind of drives of the hardware RAID", choices=("any", "ssd", "hdd")),
    S("serial_console_device", K.TTY, "ttyS1", "serial console device, or none"),
    S("use_ceph_if_available", K.BOOL, False, "put Nova ephemeral disks on Ceph"),
    S("compute_is_cephosd", K.BOOL, False, "hyper-converged compute that is also a Ceph OSD"),
    S("nested_virt", K.CHOICE, "cluster_value", "nested virtualisation", choices=("yes", "no", "cluster_value")),
    S("cpu_mode", K.CHOICE, "cluster_value", "libvirt CPU mode", choices=(*CPU_MODES, "cluster_value")),
    S("cpu_model", K.NAME, "cluster_value", "libvirt CPU model"),
    S("cpu_allocation_ratio", K.FLOAT, 16.0, "Nova CPU overcommit ratio", minimum=0),
    S("ram_allocation_ratio", K.FLOAT, 1.5, "Nova RAM overcommit ratio", minimum=0),
    S("disk_allocation_ratio", K.FLOAT, 1.0, "Nova disk overcommit ratio", minimum=0),
    S("nova_reserved_host_memory_mb", K.INT, 4096, "memory kept for the host", minimum=0),
    S("nova_reserved_host_disk_mb", K.INT, 0, "disk space kept for the host", minimum=0),
    S("force_dhcp_agent", K.BOOL, False, "run the Neutron DHCP agent on this compute"),
    S("neutron_external_network_name", K.NAME, "external", "name of the external provider network"),
    S("swift_store_account", K.BOOL, True, "this store serves the account ring"),
    S("swift_store_container", K.BOOL, True, "this store serves the container ring"),
    S("swift_store_object", K.BOOL, True, "this store serves the object ring"),
    S("loc_dc", K.TEXT, "", "datacentre", aliases=("--dc",)),
    S("loc_row", K.TEXT, "", "row in the datacentre", aliases=("--row",)),
    S("loc_rack", K.TEXT, "", "rack", aliases=("--rack",)),
    S("loc_u_start", K.INT, 0, "lowest rack unit", minimum=0, maximum=100, aliases=("--ustart",)),
    S("loc_u_end", K.INT, 0, "highest rack unit", minimum=0, maximum=100, aliases=("--uend",)),
    no_effect={"use_ceph_if_available": "Nova's ephemeral disks on Ceph are not configured by OCI's Puppet classes"},
)


def check_values(table: Mapping[str, Setting], values: Mapping[str, object]) -> dict[str, Value]:
    """Validate stored values against a table; unknown names and bad types raise ``InvalidInput``."""
    out: dict[str, Value] = {}
    for name, value in values.items():
        setting = table.get(name)
        if setting is None:
            raise InvalidInput(f"unknown setting '{name}'")
        try:
            out[name] = setting.check(value)
        except InvalidInput as exc:
            raise InvalidInput(f"setting '{name}': {exc.message.split(': ', 1)[-1]}") from None
    return out


def effective(table: Mapping[str, Setting], values: Mapping[str, Value]) -> dict[str, Value | None]:
    return {name: values.get(name, setting.default) for name, setting in table.items()}
