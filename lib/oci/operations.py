"""Every operator operation, once: its name, its HTTP route, its parameters and the service call.

``ocicli`` runs them locally (on the state directory) or through the HTTP API; the API's admin routes are
generated from this table. So an operation exists in both modes or in neither, with the same parameters and
the same result, and the route list the authentication tests walk through is this table.

A few operations are ``local_only``: they have no HTTP route and run only on the master, as root or ``oci``
(``oci-token``, ``oci-pki``). A token must not be able to make tokens, nor a network client reach the
certificate authority's keys; going through this table still gives their changes the audit log.
"""

from __future__ import annotations

import getpass
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from oci import masking, names, values
from oci.enc import refresh as enc_refresh
from oci.errors import InvalidInput, OciError
from oci.netconf import service as netconf
from oci.service import (
    automation,
    bmcauto,
    bmcops,
    certificates,
    clusterinstall,
    clusters,
    dryrun,
    identity,
    install,
    installlog,
    machines,
    networks,
    profiles,
    racking,
    rootpass,
    swiftring,
    tokens,
    topology,
    wipe,
)
from oci.store import Store

_TYPES: dict[str, type | tuple[type, ...]] = {"str": str, "dict": dict, "list": list, "int": int, "bool": bool}
_PATH_SAFE = re.compile(r"[A-Za-z0-9._:@-]+")
_NAME_CHECKS: dict[str, Callable[[object], str]] = {
    "cluster": names.cluster,
    "network": names.network,
    "location": names.location,
    "swift": names.swift_region,
    "role": names.role,
}


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # str, dict, list, int
    required: bool


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # bottle syntax, relative to /api/v1: /machines/<machine>
    call: Callable[..., Any]
    params: tuple[Param, ...]
    local_only: bool = False  # no HTTP route: on the master only (the path is then empty)
    # How long its reply may take, when that is longer than a client's usual wait (a ring rebalance: minutes).
    reply_within: float = 0.0

    @property
    def mutating(self) -> bool:
        return self.method != "GET" and self.name != "dry_run"  # a dry run changes nothing

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(part[1:-1] for part in self.path.split("/") if part.startswith("<"))

    def check_path_value(self, param: str, value: str) -> None:
        """Raise the error the service would raise for a path value that cannot travel in a URL path
        (a ``/``, ``..``): HTTP servers decode such paths before routing, so it would never reach it."""
        if _PATH_SAFE.fullmatch(value) and value not in (".", ".."):
            return
        if param == "verb":
            if value not in bmcops.VERBS:
                raise InvalidInput(f"unknown IPMI verb {value!r}", hint="one of " + ", ".join(bmcops.VERBS))
        elif param == "operation":
            if value not in OPERATIONS:
                raise InvalidInput(f"unknown operation {value!r}")
        elif param == "host":
            names.fqdn(value, "host name")
        elif param in ("machine", "serial"):
            names.serial(value)
        elif param == "address":
            networks.parse_address(value)
        elif param == "name" and self.path.startswith("/clusters/<name>"):
            names.cluster(value)  # a cluster's route whose operation is named otherwise (swift_calculate_ring)
        else:
            _NAME_CHECKS[self.name.split("_")[0]](value)

    def check(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters, checked for names and JSON types (values are checked by the service)."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise InvalidInput(f"{self.name}: unknown parameter(s) {', '.join(map(str, unknown))}")
        out = {}
        for param in self.params:
            value = given.get(param.name)
            if value is None:
                if param.required:
                    raise InvalidInput(f"{self.name}: parameter '{param.name}' is required")
                continue
            if type(value) is not _TYPES[param.type]:
                raise InvalidInput(f"{self.name}: parameter '{param.name}' must be a {param.type}")
            # Both modes: a Python caller (ocicli's local mode) can pass what JSON cannot carry.
            values.check_data(value, f"{self.name}: parameter '{param.name}'")
            out[param.name] = value
        return out


def _add_many(store: Store, entries: object) -> Any:
    return machines.add_many(store, entries)  # a function, not a lambda: its parameter "machines" hides the module


def _params(spec: str) -> tuple[Param, ...]:
    """``"serial cluster fixed_ip?  settings:dict?"`` -> Params (type str unless given; ``?``: optional)."""
    out = []
    for word in spec.split():
        optional = word.endswith("?")
        name, _, kind = word.rstrip("?").partition(":")
        out.append(Param(name, kind or "str", not optional))
    return tuple(out)


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        # machines
        Operation("machine_list", "GET", "/machines", lambda s: machines.list_(s), _params("")),
        Operation("machine_show", "GET", "/machines/<machine>", lambda s, machine: machines.show(s, machine), _params("machine")),
        Operation(
            "machine_add",
            "POST",
            "/machines/<serial>/enrolment",
            lambda s, serial, cluster, role, location, fixed_ip=None: machines.add(s, serial, cluster, role, location, fixed_ip=fixed_ip),
            _params("serial cluster role location fixed_ip?"),
        ),
        Operation(
            "machine_add_many",
            "POST",
            "/enrolments",
            lambda s, machines: _add_many(s, machines),
            _params("machines:list"),
            reply_within=300,  # a thousand machines: their certificates are issued one by one
        ),
        Operation(
            "machine_remove", "DELETE", "/machines/<machine>/enrolment", lambda s, machine: machines.remove(s, machine), _params("machine")
        ),
        Operation(
            "machine_destroy",
            "DELETE",
            "/machines/<machine>",
            lambda s, machine: machines.destroy(s, machine),
            _params("machine"),
        ),
        Operation(
            "machine_set",
            "PATCH",
            "/machines/<machine>",
            lambda s, machine, settings=None, unset=None, hostname=None: machines.set_(s, machine, settings or {}, unset or [], hostname),
            _params("machine settings:dict? unset:list? hostname?"),
        ),
        Operation(
            "machine_ip_list", "GET", "/machines/<machine>/addresses", lambda s, machine: machines.ip_list(s, machine), _params("machine")
        ),
        Operation(
            "machine_show_network", "GET", "/machines/<machine>/network", lambda s, machine: netconf.show(s, machine), _params("machine")
        ),
        # Hardware profiles (docs/profiles.md)
        Operation(
            "machine_guessed_profile",
            "GET",
            "/machines/<machine>/profiles",
            lambda s, machine: profiles.guessed(s, machines.resolve(s, machine)),
            _params("machine"),
        ),
        Operation("profile_list", "GET", "/profiles", lambda s: profiles.list_(s), _params("")),
        Operation(
            "machine_replace",
            "POST",
            "/machines/<machine>/replace",
            lambda s, machine, new: machines.replace_machine(s, machine, new),
            _params("machine new"),
        ),
        Operation(
            "machine_wipe",
            "POST",
            "/machines/<machine>/wipe",
            lambda s, machine, confirm=False: wipe.wipe(s, machine, confirm),
            _params("machine confirm:bool?"),
            reply_within=wipe.WIPE_TIMEOUT,
        ),
        Operation(
            "machine_gen_root_pass",
            "POST",
            "/machines/<machine>/root-password",
            lambda s, machine: rootpass.generate(s, machine),
            _params("machine"),
        ),
        Operation(
            "machine_forget_root_pass",
            "DELETE",
            "/machines/<machine>/root-password",
            lambda s, machine: rootpass.forget(s, machine),
            _params("machine"),
        ),
        Operation("machine_blk", "GET", "/machines/<machine>/disks", lambda s, machine: machines.disks(s, machine), _params("machine")),
        Operation(
            "machine_show_from_hostname",
            "GET",
            "/hostnames/<host>",
            lambda s, host: machines.show_from_hostname(s, host),
            _params("host"),
        ),
        # Automatic enrolment (docs/automation.md)
        Operation(
            "machine_auto_add",
            "POST",
            "/machines/<machine>/auto-add",
            lambda s, machine, cluster=None, dry_run=False: automation.auto_add(s, machine, cluster, dry_run),
            _params("machine cluster? dry_run:bool?"),
        ),
        Operation(
            "machine_report_counter_reset",
            "POST",
            "/machines/<machine>/report-counter-reset",
            lambda s, machine: automation.report_counter_reset(s, machine),
            _params("machine"),
        ),
        # Racking from LLDP (docs/racking.md)
        Operation(
            "machine_guess_racking",
            "GET",
            "/machines/<machine>/racking",
            lambda s, machine: racking.guessed(s, machines.resolve(s, machine)),
            _params("machine"),
        ),
        Operation(
            "machine_auto_rack",
            "POST",
            "/machines/<machine>/racking",
            lambda s, machine, dry_run=False: racking.auto_rack(s, machine, dry_run),
            _params("machine dry_run:bool?"),
        ),
        Operation(
            "machine_ip_add",
            "POST",
            "/machines/<machine>/addresses",
            lambda s, machine, network, address: machines.ip_add(s, machine, network, address),
            _params("machine network address"),
        ),
        Operation(
            "machine_ip_remove",
            "DELETE",
            "/machines/<machine>/addresses/<address>",
            lambda s, machine, address: machines.ip_remove(s, machine, address),
            _params("machine address"),
        ),
        # install progress (docs/agent.md, "Install progress")
        Operation(
            "machine_install_progress",
            "GET",
            "/machines/<machine>/install",
            lambda s, machine: machines.install_progress(s, machine),
            _params("machine"),
        ),
        Operation(
            "machine_puppet_progress",
            "GET",
            "/machines/<machine>/puppet",
            lambda s, machine: machines.puppet_progress(s, machine),
            _params("machine"),
        ),
        Operation(
            "machine_install_log",
            "GET",
            "/machines/<machine>/install-log",
            lambda s, machine, offset=None: installlog.read(s, machine, offset),
            _params("machine offset?"),
        ),
        # node identity (docs/security.md)
        Operation(
            "machine_conflicts",
            "GET",
            "/machines/<machine>/conflicts",
            lambda s, machine: identity.conflicts(s, machines.resolve(s, machine)),
            _params("machine"),
        ),
        Operation(
            "machine_conflicts_clear",
            "DELETE",
            "/machines/<machine>/conflicts",
            lambda s, machine: identity.clear_conflicts(s, machines.resolve(s, machine)),
            _params("machine"),
        ),
        Operation(
            "machine_accept_address",
            "PUT",
            "/machines/<machine>/report-address",
            lambda s, machine, address: identity.accept_address(s, machines.resolve(s, machine), address, datetime.now(UTC)),
            _params("machine address"),
        ),
        # clusters
        Operation("cluster_list", "GET", "/clusters", lambda s: clusters.list_(s), _params("")),
        Operation("cluster_create", "POST", "/clusters", lambda s, name, domain: clusters.create(s, name, domain), _params("name domain")),
        Operation("cluster_show", "GET", "/clusters/<name>", lambda s, name: clusters.show(s, name), _params("name")),
        Operation("cluster_check", "GET", "/clusters/<name>/problems", lambda s, name: clusters.check(s, name), _params("name")),
        Operation(
            "cluster_set",
            "PATCH",
            "/clusters/<name>",
            lambda s, name, settings=None, unset=None, first_master=None: clusters.set_(s, name, settings or {}, unset or [], first_master),
            _params("name settings:dict? unset:list? first_master?"),
        ),
        Operation("cluster_delete", "DELETE", "/clusters/<name>", lambda s, name: clusters.delete(s, name), _params("name")),
        Operation(
            "cluster_show_machines", "GET", "/clusters/<name>/machines", lambda s, name: clusters.show_machines(s, name), _params("name")
        ),
        Operation(
            "cluster_show_networks", "GET", "/clusters/<name>/networks", lambda s, name: clusters.show_networks(s, name), _params("name")
        ),
        Operation("cluster_show_ips", "GET", "/clusters/<name>/addresses", lambda s, name: clusters.show_ips(s, name), _params("name")),
        # cluster-install (docs/puppet-runs.md, "The cluster"): the order, and what its waiting loop polls
        Operation(
            "cluster_install_order", "GET", "/clusters/<name>/install-order", lambda s, name: clusterinstall.plan(s, name), _params("name")
        ),
        Operation(
            "cluster_install_progress",
            "GET",
            "/clusters/<name>/install-progress",
            lambda s, name: clusterinstall.progress(s, name),
            _params("name"),
        ),
        # Swift rings (docs/swift.md)
        Operation(
            "swift_calculate_ring",
            "POST",
            "/clusters/<name>/swift-rings",
            lambda s, name, weights=None: swiftring.calculate(s, name, weights),
            _params("name weights:dict?"),
            reply_within=swiftring.BUILD_TIMEOUT,
        ),
        Operation(
            "swift_publish_ring",
            "POST",
            "/clusters/<name>/swift-rings/publish",
            lambda s, name: swiftring.publish(s, name),
            _params("name"),
            reply_within=swiftring.BUILD_TIMEOUT,  # one node after the other
        ),
        # networks
        Operation("network_list", "GET", "/networks", lambda s: networks.list_(s), _params("")),
        Operation(
            "network_create",
            "POST",
            "/networks",
            lambda s, name, ip, cidr, location, public: networks.create(s, name, ip, cidr, location, public),
            _params("name ip cidr location public"),
        ),
        Operation("network_show", "GET", "/networks/<name>", lambda s, name: networks.show(s, name), _params("name")),
        Operation(
            "network_set",
            "PATCH",
            "/networks/<name>",
            lambda s, name, changes: networks.set_(s, name, changes),
            _params("name changes:dict"),
        ),
        Operation("network_delete", "DELETE", "/networks/<name>", lambda s, name: networks.delete(s, name), _params("name")),
        Operation(
            "network_add",
            "POST",
            "/networks/<name>/attachment",
            lambda s, name, cluster, role, iface1, iface2=None: networks.add(s, name, cluster, role, iface1, iface2),
            _params("name cluster role iface1 iface2?"),
        ),
        Operation(
            "network_remove",
            "DELETE",
            "/networks/<name>/attachment",
            lambda s, name: networks.remove(s, name),
            _params("name"),
        ),
        # BMCs
        Operation(
            "machine_set_ipmi",
            "PUT",
            "/machines/<machine>/bmc",
            lambda s, machine, use, address, port, user, password: bmcops.set_access(s, machine, use, address, port, user, password),
            _params("machine use address port user password"),
        ),
        Operation(
            "machine_ipmi_cmd",
            "POST",
            "/machines/<machine>/bmc/<verb>",
            lambda s, machine, verb: bmcops.command(s, machine, verb),
            _params("machine verb"),
        ),
        Operation(
            "machine_ipmi_reboot_on_live",
            "POST",
            "/machines/<machine>/ipmi-reboot-on-live",
            lambda s, machine: bmcops.reboot(s, machine, "live"),
            _params("machine"),
        ),
        Operation(
            "machine_ipmi_reboot_on_hdd",
            "POST",
            "/machines/<machine>/ipmi-reboot-on-hdd",
            lambda s, machine: bmcops.reboot(s, machine, "hdd"),
            _params("machine"),
        ),
        Operation(
            "machine_reboot_on_live",
            "POST",
            "/machines/<machine>/reboot-on-live",
            lambda s, machine: bmcops.reboot(s, machine, "live", through_node=True),
            _params("machine"),
        ),
        Operation(
            "machine_reboot_on_hdd",
            "POST",
            "/machines/<machine>/reboot-on-hdd",
            lambda s, machine: bmcops.reboot(s, machine, "hdd", through_node=True),
            _params("machine"),
        ),
        # installs
        Operation(
            "machine_install_os",
            "POST",
            "/machines/<machine>/install-os",
            lambda s, machine, dry_run=False: install.install_os(s, machine, dry_run=dry_run),
            _params("machine dry_run:bool?"),
        ),
        Operation(
            "machine_display_install_cmd",
            "GET",
            "/machines/<machine>/install-cmd",
            lambda s, machine: install.install_command(s, machine),
            _params("machine"),
        ),
        Operation(
            "machine_console",
            "POST",  # it takes the console over from whoever had it, and may type on it: audited
            "/machines/<machine>/console",
            lambda s, machine, seconds=None, keys=None: bmcops.console(s, machine, seconds, keys),
            _params("machine seconds:int? keys?"),
            reply_within=bmcops.CONSOLE_SECONDS[1] + 60,
        ),
        Operation(
            "machine_console_attach",
            "POST",
            "",
            lambda s, machine: bmcops.attach(s, machine),
            _params("machine"),
            local_only=True,  # it needs the master's terminal
        ),
        Operation("check_all_ipmi", "GET", "/bmc-check", lambda s, filter=None: bmcops.check_all(s, filter), _params("filter?")),
        Operation(
            "ipmi_assign_check",
            "GET",
            "/bmc-assign-check",
            lambda s, all=None: bmcauto.assign_check(s, show_all=networks.parse_yes_no(all or "no", "all flag")),
            _params("all?"),
        ),
        # classification
        Operation("enc_show", "GET", "/enc/<host>", lambda s, host: enc_refresh.show(s, host), _params("host")),
        Operation(
            "dry_run",
            "POST",
            "/dry-run/<operation>",
            lambda s, operation, params: dryrun.dry_run(s, operation, params, execute),
            _params("operation params:dict"),
        ),
        # locations, swift regions, roles
        Operation("location_list", "GET", "/locations", lambda s: topology.location_list(s), _params("")),
        Operation(
            "location_create",
            "POST",
            "/locations",
            lambda s, name, swift_region: topology.location_create(s, name, swift_region),
            _params("name swift_region"),
        ),
        Operation(
            "location_delete",
            "DELETE",
            "/locations/<name>",
            lambda s, name: topology.location_delete(s, name),
            _params("name"),
        ),
        Operation("swift_region_list", "GET", "/swift-regions", lambda s: topology.region_list(s), _params("")),
        Operation("swift_region_create", "POST", "/swift-regions", lambda s, name: topology.region_create(s, name), _params("name")),
        Operation(
            "swift_region_delete",
            "DELETE",
            "/swift-regions/<name>",
            lambda s, name: topology.region_delete(s, name),
            _params("name"),
        ),
        Operation(
            "cluster_rolecounts_list",
            "GET",
            "/clusters/<name>/rolecounts",
            lambda s, name: clusters.rolecounts_list(s, name),
            _params("name"),
        ),
        Operation(
            "cluster_rolecounts_set",
            "POST",
            "/clusters/<name>/rolecounts",
            lambda s, name, role, count: clusters.rolecounts_set(s, name, role, count),
            _params("name role count:int"),
        ),
        Operation("role_list", "GET", "/roles", lambda s: topology.role_list(s), _params("")),
        Operation("role_create", "POST", "/roles", lambda s, name: topology.role_create(s, name), _params("name")),
        Operation("role_delete", "DELETE", "/roles/<name>", lambda s, name: topology.role_delete(s, name), _params("name")),
        # API tokens (oci-token): local only, a token must not be able to make tokens
        Operation("token_create", "POST", "", lambda s, name: tokens.create_named(s, name, _now()), _params("name"), local_only=True),
        Operation("token_list", "GET", "", lambda s: tokens.list_(s), _params(""), local_only=True),
        Operation("token_revoke", "DELETE", "", lambda s, name: tokens.revoke(s, name), _params("name"), local_only=True),
        # the certificate authority and the SSH CAs (oci-pki): local only, the CAs' keys stay on the master
        Operation(
            "pki_init", "POST", "", lambda s, ca_key_type=None: certificates.init(s, ca_key_type), _params("ca_key_type?"), local_only=True
        ),
        Operation(
            "pki_issue",
            "POST",
            "",
            lambda s, fqdn, ip=None, client=False, key_type=None: certificates.issue(s, fqdn, ip, client, key_type),
            _params("fqdn ip:list? client:bool? key_type?"),
            local_only=True,
        ),
        Operation("pki_list", "GET", "", lambda s: certificates.list_(s), _params(""), local_only=True),
        Operation("pki_show", "GET", "", lambda s, fqdn: certificates.show(s, fqdn), _params("fqdn"), local_only=True),
        Operation("pki_renew", "POST", "", lambda s, fqdn: certificates.renew(s, fqdn), _params("fqdn"), local_only=True),
        Operation("pki_revoke", "POST", "", lambda s, fqdn: certificates.revoke(s, fqdn), _params("fqdn"), local_only=True),
        Operation(
            "pki_install",
            "PUT",
            "",
            lambda s, fqdn, cert, key, chain=None: certificates.install(s, fqdn, cert, key, chain),
            _params("fqdn cert key chain?"),
            local_only=True,
        ),
        Operation(
            "pki_ssh_known_hosts",
            "GET",
            "",
            lambda s, cluster: certificates.ssh_known_hosts(s, cluster),
            _params("cluster"),
            local_only=True,
        ),
        Operation(
            "pki_ssh_sign_user",
            "POST",  # changes nothing on disk, but an operator's access is worth a line in the audit log
            "",
            lambda s, cluster, public_key, identity=None, principal=None: certificates.ssh_sign_user(
                s, cluster, public_key, identity, principal
            ),
            _params("cluster public_key identity? principal:list?"),
            local_only=True,
        ),
    )
}


def masked(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters fit for a log: secrets masked (``oci.masking``), every other value as strict JSON holds it."""
    return masking.masked(params, leaf=_loggable)


def _loggable(value: Any) -> Any:
    """A kept value as strict JSON can hold it: a non-finite float as its text ("nan", "inf"; a refused
    request may hold one, and the log must still say what it was), other types as text."""
    if type(value) is float and not math.isfinite(value):
        return repr(value)
    if type(value) is int and value.bit_length() > 64:  # json.dumps refuses ints of more than 4300 digits
        return f"<a {value.bit_length()}-bit integer>"
    if value is None or type(value) in (str, int, float, bool):
        return value
    return repr(value)


def execute(store: Store, name: str, params: Mapping[str, Any], actor: str | None = None) -> Any:
    """Run an operation and return its result as JSON data (the same in both modes).

    Every attempted change is appended to the audit log (``<state>/audit.log``): when, who (``token:<name>``
    through the API, ``local:<user>`` for ocicli on the master), what, and how it ended. Parameters that
    look like secrets are masked.

    The ENC follows the change: the clusters whose classifications the objects it wrote may change are
    re-rendered once, after it succeeded (enc/refresh.py ``following``), whatever the operation.
    """
    operation = OPERATIONS[name]
    outcome = "failed"  # until the call returns: an exception of any kind is not a success
    try:
        with enc_refresh.following(store):
            result = operation.call(store, **operation.check(params))
        outcome = "ok"
    except OciError as exc:
        outcome = f"refused: {exc.message}"
        raise
    except BaseException as exc:
        outcome = f"failed: {type(exc).__name__}"  # a bug or a system error: the traceback goes to the caller's log
        raise
    finally:
        if operation.mutating:
            entry = {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "actor": actor or f"local:{_user()}",
                "operation": name,
                "params": masked(params),
                "outcome": outcome,
            }
            # Strict JSON: a line every JSON reader takes (no NaN or Infinity, which _loggable turned into text).
            store.append_audit(json.dumps(entry, sort_keys=True, allow_nan=False))
    return json.loads(json.dumps(result, sort_keys=True, allow_nan=False))  # exactly what the API sends


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
