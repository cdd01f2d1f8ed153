"""``machine-install-os``: the install plan and bundle of a node, made on the master from the state, and their
hand-over to the live node (docs/install.md).

``plan_for`` decides everything (``oci.install.plan``) and gathers the files only this node gets: its network
files and /etc/hosts as ``oci-netconf`` renders them, its TLS key and certificate with the CA chain, a fresh SSH
host key certified by its cluster's host CA, puppet.conf and the Puppet agent's certificate, the /etc/oci facts,
the first-boot unit, and the operator's extras. ``install_os`` hands the bundle over the SSH channel of ``oci.remote`` (checked both ways by
OCI's CAs) and starts ``oci-install`` there in the background: the node reports each step itself.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from oci import ipam, names, placement, remote, templates
from oci.config import Config
from oci.errors import Conflict, InvalidInput, NotFound, OciError
from oci.install import plan as install_plan
from oci.install.bundle import MODES, BundleFile, pack
from oci.install.layout import GIB, DiskLayout, layout_for
from oci.install.plan import BootMode, InstallPlan, NetworkNeeds, describe, packages_for
from oci.model import AllocationKind, Cluster, Machine, MachineStatus, Network, Phase
from oci.model.machine import MAX_ERROR_LENGTH
from oci.netconf import service as netconf
from oci.netconf.model import Bond, Bridge, BridgeKind, HostNetwork, Vlan
from oci.netconf.target import check_relative
from oci.packagecache import through_cache
from oci.pki import ssh
from oci.puppet import ca as puppet_ca
from oci.run import CommandError
from oci.service import bmcops, certificates, clusters, profiles, status, swiftring
from oci.service.machines import resolve
from oci.store import Store
from oci.templates import Templates

SECURITY_MIRROR = "http://security.debian.org/debian-security"
FIRST_BOOT_UNIT = "oci-report-installed.service"
FIRST_BOOT_TEMPLATE = "oci-report-installed.service.j2"
PUPPET_TEMPLATE = "puppet.conf.j2"
# The first Puppet runs (docs/puppet-runs.md): a unit after the first-boot report (install_plan.PUPPET_RUN_UNIT),
# its script, and its marker (install_plan.PUPPET_RUN_MARKER).
PUPPET_RUN_UNIT = install_plan.PUPPET_RUN_UNIT
PUPPET_RUN_UNIT_TEMPLATE = "oci-puppet-first-run.service.j2"
PUPPET_RUN_SCRIPT = "usr/sbin/oci-puppet-first-run"
PUPPET_RUN_SCRIPT_TEMPLATE = "oci-puppet-first-run.sh.j2"
PUPPET_RUN_MARKER = install_plan.PUPPET_RUN_MARKER
PUPPET_RUN_PAUSE = 60  # seconds between two runs: what failed (a service the run waits for) may settle
SSHD_TEMPLATE = "sshd-oci-node.conf.j2"
# On the node: the first-boot report's body, its marker, and the CA chain curl checks the master with.
REPORT_BODY = "etc/oci/installed-report.json"
REPORT_MARKER = "/var/lib/oci/installed-reported"
CA_CHAIN = "etc/ssl/certs/oci-ca-chain.pem"
HOST_KEY = "etc/ssh/ssh_host_ed25519_key"
USER_CA = "etc/ssh/oci-user-ca.pub"
# The fact Debian's puppet-openstack modules give every unset option ("$::os_service_default"): the
# puppet-module-openstacklib package puts it in /etc/facter/facts.d on the machine it is installed on, the
# master, and Puppet does not carry it to the nodes (docs/puppet.md).
OPENSTACK_FACT = "etc/facter/facts.d/os_service_default.txt"
OPENSTACK_FACT_TEXT = "os_service_default=<SERVICE DEFAULT>\n"
# Debian's agent ssldir on the node: the credentials issued at install time, so no CSR round trip at first boot.
AGENT_SSLDIR = "var/lib/puppet/ssl"
# What the master runs on the live node (the installer's defaults, spelled out for machine-display-install-cmd).
NODE_COMMAND = ("oci-install", "--bundle", install_plan.BUNDLE_PATH, "--log", install_plan.LOG_PATH)
# Run on the node through ssh: write stdin to the bundle path (0600, in a 0700 folder, renamed into place whole),
# then start the installer detached from the SSH session (a transient unit under systemd, as the live image
# runs; setsid elsewhere). A start that fails removes the bundle: no node keeps keys it will not use.
HANDOVER = r"""set -e
bundle=$1; shift
umask 077
mkdir -p "${bundle%/*}"
cat > "$bundle.part"
mv "$bundle.part" "$bundle"
if [ -d /run/systemd/system ]; then
    systemd-run --quiet --unit=oci-install --collect -- "$@" || { rm -f "$bundle"; exit 1; }
else
    command -v "$1" > /dev/null || { rm -f "$bundle"; echo "$1: not found" >&2; exit 127; }
    setsid "$@" < /dev/null > /dev/null 2>&1 &
fi
"""
HANDOVER_TIMEOUT = 300  # seconds: the bundle is at most 64 MiB, over a slow provisioning link
_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]{0,99}")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# ---------------------------------------------------------------------------------------------- the master
def master_url(cfg: Config) -> str:
    """The base URL nodes reach OCI at, as the live image learns it (``[boot] url``, else ``oci_ip`` and the API port)."""
    if cfg.boot_url:
        return cfg.boot_url
    if cfg.master_address is None:
        raise Conflict("the master's address for nodes is not configured", hint="set [network] oci_ip or [boot] url")
    return f"http://{cfg.master_address}:{cfg.listen[1]}"


def puppet_server(cfg: Config) -> str:
    return cfg.puppet_server or str(urlsplit(master_url(cfg)).hostname)


# ---------------------------------------------------------------------------------------------- extras
@dataclass(frozen=True)
class Extras:
    packages: tuple[str, ...]
    files: dict[str, BundleFile]


def _extra_packages(path: Path) -> list[str]:
    """A ``packages`` file: names separated by commas, blanks or lines (OCI 42's oci-packages-list is one
    comma-separated line); ``#`` starts a comment."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from None
    found = []
    for line in text.splitlines():
        for word in line.split("#", 1)[0].replace(",", " ").split():
            if not _PACKAGE.fullmatch(word):
                raise InvalidInput(f"{path}: {ascii(word)[:60]} is not a Debian package name")
            found.append(word)
    return found


def _extra_files(root: Path) -> dict[str, BundleFile]:
    """The ``files/`` tree: regular files only, plain names (no hidden ones, no links), modes kept within the
    bundle's (a file not readable by others stays so: 0600, 0640, 0700 or 0750)."""
    if not root.is_dir():
        return {}
    found: dict[str, BundleFile] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise InvalidInput(f"{path}: only regular files and folders are copied onto a target")
        check_relative(relative)
        if path.is_dir():
            continue
        mode = path.stat().st_mode
        executable, group, others = bool(mode & 0o100), bool(mode & 0o040), bool(mode & 0o004)
        kept = (
            (0o755 if executable else 0o644) if others else (0o750 if executable else 0o640) if group else (0o700 if executable else 0o600)
        )
        found[relative] = BundleFile(path.read_bytes(), kept)
    return found


def extras_for(cfg: Config, cluster: str, serial: str) -> Extras:
    """The operator's extras for a machine: ``<extras_dir>/clusters/<cluster>/`` then ``machines/<serial>/``
    (a machine's file replaces the cluster's of the same path; packages add up)."""
    packages: list[str] = []
    files: dict[str, BundleFile] = {}
    for folder in (
        cfg.install_extras_dir / "clusters" / names.cluster(cluster),
        cfg.install_extras_dir / "machines" / names.serial(serial),
    ):
        packages += [p for p in _extra_packages(folder / "packages") if p not in packages]
        files.update(_extra_files(folder / "files"))
    return Extras(tuple(packages), files)


# ---------------------------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class _Node:
    """What the plan and the bundle of one node are made from (read from the state, nothing written)."""

    machine: Machine
    cluster: Cluster
    hostname: str
    network: netconf.Plan
    management_ip: IPv4Address
    extras: Extras
    swift_rings: dict[str, bytes]  # etc/swift/<ring>.ring.gz -> its bytes, for a Swift node once the rings exist


def network_needs(network: HostNetwork) -> NetworkNeeds:
    bridges = list(network.of_kind(Bridge))
    return NetworkNeeds(
        bonds=any(True for _ in network.of_kind(Bond)),
        bridges=any(b.kind is BridgeKind.LINUX for b in bridges),
        ovs=any(b.kind is BridgeKind.OVS for b in bridges),
        vlans=any(True for _ in network.of_kind(Vlan)),
    )


def _read_node(store: Store, serial: str) -> _Node:
    machine = store.get(Machine, serial)
    if machine.enrolment is None:
        raise Conflict(f"machine {serial} is in no cluster", hint=f"machine-add {serial} CLUSTER ROLE LOCATION first")
    enrolment = machine.enrolment
    view = clusters.view(store, enrolment.cluster)
    management = [
        a
        for n in placement.management_networks(view, enrolment.role, enrolment.location)
        for a in ipam.addresses_of(n, AllocationKind.MACHINE, serial)
    ]
    if not management:
        raise Conflict(f"machine {serial} has no address on a management network", hint=f"see machine-ip-list {serial}")
    network = netconf.plan(store, serial)
    extras = extras_for(store.config, enrolment.cluster, serial)
    rings = swiftring.ring_files(store, enrolment.cluster) if enrolment.role in swiftring.NODE_ROLES else {}
    return _Node(machine, view.cluster, enrolment.hostname, network, management[0], extras, rings)


def _file_paths(node: _Node, layout: DiskLayout) -> list[str]:
    """Every file the bundle writes onto the target; OCI's own, and those the node renders, may not be
    replaced by an extra."""
    fqdn = node.hostname
    own = [
        *node.network.files, "etc/oci/system-serial", "etc/oci/my-role", "etc/oci/my-cluster", "etc/oci/my-ip", OPENSTACK_FACT,
        "etc/oci/pxe-server-ip", REPORT_BODY, "etc/puppet/puppet.conf", HOST_KEY, f"{HOST_KEY}.pub", f"{HOST_KEY}-cert.pub", USER_CA,
        "etc/ssh/ssh_known_hosts", "etc/ssh/sshd_config.d/oci-host-certificate.conf", f"etc/ssl/private/{fqdn}.key",
        f"etc/ssl/certs/{fqdn}.pem", CA_CHAIN, "usr/local/share/ca-certificates/oci/oci-root-ca.crt",
        "usr/local/share/ca-certificates/oci/oci-ca.crt", f"etc/systemd/system/{FIRST_BOOT_UNIT}",
        f"etc/systemd/system/{PUPPET_RUN_UNIT}", PUPPET_RUN_SCRIPT, PUPPET_RUN_MARKER, *_puppet_paths(fqdn), *node.swift_rings,
    ]  # fmt: skip
    taken = sorted((set(own) | set(install_plan.node_files(layout))) & set(node.extras.files))
    if taken:
        raise InvalidInput(f"the operator's extra file /{taken[0]} would replace a file OCI writes", hint="remove it from the extras")
    return sorted({*own, *node.extras.files})


def _plan(store: Store, node: _Node) -> InstallPlan:
    cfg = store.config
    machine, cluster = node.machine, node.cluster
    assert machine.enrolment is not None
    settings = profiles.settings(store, machine)
    layout = layout_for(machine.hardware, settings, cfg.install_minimum_disk_gib * GIB)
    boot = BootMode.UEFI if machine.hardware.uefi else BootMode.BIOS
    secure_boot = boot is BootMode.UEFI and machine.hardware.secure_boot is True
    console = settings.get("serial_console_device")
    return InstallPlan(
        serial=machine.serial,
        hostname=node.hostname,
        cluster=cluster.name,
        role=machine.enrolment.role,
        boot=boot,
        layout=layout,
        release=str(cluster.setting("debian_release")),
        mirror=through_cache(cfg, str(cluster.setting("debian_mirror")).rstrip("/")),
        security_mirror=through_cache(cfg, SECURITY_MIRROR),
        packages=packages_for(boot, secure_boot, layout, network_needs(node.network.network)),
        status_url=master_url(cfg) + "/api/v1/status",
        serial_console=None if console in (None, "none") else str(console),
        secure_boot=secure_boot,
        files=tuple(_file_paths(node, layout)),
        units=(FIRST_BOOT_UNIT, PUPPET_RUN_UNIT),
        extra_packages=node.extras.packages,
    )


def _text(data: str) -> BundleFile:
    return BundleFile(data.encode())


def first_boot_unit(url: str, chosen: Templates) -> str:
    return chosen.render(
        FIRST_BOOT_TEMPLATE, {"url": url, "ca_file": "/" + CA_CHAIN, "body_file": "/" + REPORT_BODY, "marker": REPORT_MARKER}
    )


def puppet_run_unit(chosen: Templates) -> str:
    return chosen.render(
        PUPPET_RUN_UNIT_TEMPLATE, {"after": FIRST_BOOT_UNIT, "marker": "/" + PUPPET_RUN_MARKER, "script": "/" + PUPPET_RUN_SCRIPT}
    )


@dataclass(frozen=True)
class PuppetRunPaths:
    """Where the first-run script finds and writes things on the node (other places only in its tests)."""

    marker: str = "/" + PUPPET_RUN_MARKER
    serial_file: str = "/etc/oci/system-serial"
    ca_file: str = "/" + CA_CHAIN
    log_dir: str = "/var/log"


NODE_PATHS = PuppetRunPaths()


def puppet_run_script(url: str, attempts: int, timeout: int, chosen: Templates, pause: int = PUPPET_RUN_PAUSE,
                      paths: PuppetRunPaths = NODE_PATHS) -> str:  # fmt: skip
    """The first-run script (POSIX sh): ``url`` is where the node reports its status."""
    values = {"url": url, "attempts": attempts, "timeout": timeout, "pause": pause, **vars(paths)}
    return chosen.render(PUPPET_RUN_SCRIPT_TEMPLATE, values)


def puppet_conf(server: str, port: int, certname: str, chosen: Templates) -> str:
    return chosen.render(PUPPET_TEMPLATE, {"server": server, "port": port, "certname": certname})


def sshd_drop_in(chosen: Templates) -> str:
    host_key = "/" + HOST_KEY
    return chosen.render(SSHD_TEMPLATE, {"host_key": host_key, "certificate": f"{host_key}-cert.pub", "user_ca": "/" + USER_CA})


def _pki_files(store: Store, serial: str, fqdn: str) -> dict[str, BundleFile]:
    """The node's TLS key and certificate (issued now if it has none, or one for other names) and the CA chain:
    the certificates only of the CAs, never their keys."""
    certificates.for_machine(store, serial, fqdn)
    blobs = {
        name: store.read_blob("pki", *parts)
        for name, parts in {
            "key": ("certs", fqdn, "key.pem"), "chain": ("certs", fqdn, "chain.pem"), "ca": ("oci-ca.pem",),
            "root": ("root.pem",), "ca_chain": ("ca-chain.pem",),
        }.items()
    }  # fmt: skip
    missing = sorted(name for name, data in blobs.items() if data is None)
    if missing:
        raise NotFound(f"the PKI has no {missing[0].replace('_', ' ')} for {fqdn}", hint="oci-pki init, then oci-pki list")
    data = {name: blob for name, blob in blobs.items() if blob is not None}
    return {
        f"etc/ssl/private/{fqdn}.key": BundleFile(data["key"], 0o600),
        f"etc/ssl/certs/{fqdn}.pem": BundleFile(data["chain"]),
        CA_CHAIN: BundleFile(data["ca_chain"]),
        "usr/local/share/ca-certificates/oci/oci-ca.crt": BundleFile(data["ca"]),
        "usr/local/share/ca-certificates/oci/oci-root-ca.crt": BundleFile(data["root"]),
    }


def _puppet_paths(fqdn: str) -> tuple[str, ...]:
    return (f"{AGENT_SSLDIR}/certs/{fqdn}.pem", f"{AGENT_SSLDIR}/private_keys/{fqdn}.pem", f"{AGENT_SSLDIR}/certs/ca.pem",
            f"{AGENT_SSLDIR}/crl.pem")  # fmt: skip


def _puppet_files(store: Store, fqdn: str) -> dict[str, BundleFile]:
    """The node's Puppet agent certificate, issued now (an older one for that name is revoked: a reinstall),
    with the Puppet CA's chain and CRL (docs/puppet-runs.md)."""
    issued = puppet_ca.issue(store, fqdn)
    certificate, key, chain, crl = _puppet_paths(fqdn)
    return {
        certificate: _text(issued.certificate_pem),
        key: BundleFile(issued.private_key_pem.encode(), 0o600),
        chain: _text(issued.ca_pem),
        crl: _text(issued.crl_pem),
    }


def _ssh_files(store: Store, node: _Node, chosen: Templates) -> dict[str, BundleFile]:
    """A fresh host key for the installed system (the live image's stays with the live image), certified by
    the cluster's host CA for the node's names and addresses, and the cluster's user CA for sshd."""
    cluster = node.cluster.name
    private, public = ssh.new_key()
    public_line = public.decode() + f" root@{node.hostname}"
    addresses = sorted({a for n in store.all(Network) for a in ipam.addresses_of(n, AllocationKind.MACHINE, node.machine.serial)})
    assert node.machine.enrolment is not None
    principals = [node.hostname, node.machine.enrolment.short_hostname, *map(str, addresses)]
    certificate = ssh.sign(store, cluster, public_line, identity=f"oci-host-{node.machine.serial}", principals=principals)
    return {
        HOST_KEY: BundleFile(private, 0o600),
        f"{HOST_KEY}.pub": _text(public_line + "\n"),
        f"{HOST_KEY}-cert.pub": _text(certificate + "\n"),
        USER_CA: _text(ssh.public_ca(store, cluster, "user_ca") + "\n"),
        "etc/ssh/ssh_known_hosts": _text(ssh.known_hosts_line(store, cluster, node.cluster.domain) + "\n"),
        "etc/ssh/sshd_config.d/oci-host-certificate.conf": _text(sshd_drop_in(chosen)),
    }


def plan_for(store: Store, serial: str) -> tuple[InstallPlan, dict[str, BundleFile]]:
    """The plan of ``serial``'s install and the files of its bundle (relative path on the target -> content).

    Issues the node's TLS certificate if it has none, and makes a new SSH host key and Puppet agent certificate
    each time (so two calls differ in those files only; the older agent certificate is revoked)."""
    cfg = store.config
    node = _read_node(store, serial)
    plan = _plan(store, node)
    chosen = templates.load(cfg.templates_dir)
    url = master_url(cfg)
    report = {"version": 1, "serial": serial, "status": "installed", "address": str(node.management_ip)}
    files: dict[str, BundleFile] = {path: _text(text) for path, text in node.network.files.items()}
    files.update(
        {
            "etc/oci/system-serial": _text(serial + "\n"),
            "etc/oci/my-role": _text(plan.role + "\n"),
            "etc/oci/my-cluster": _text(plan.cluster + "\n"),
            "etc/oci/my-ip": _text(f"{node.management_ip}\n"),
            "etc/oci/pxe-server-ip": _text(url + "\n"),
            REPORT_BODY: _text(json.dumps(report, sort_keys=True) + "\n"),
            OPENSTACK_FACT: _text(OPENSTACK_FACT_TEXT),
            "etc/puppet/puppet.conf": _text(puppet_conf(puppet_server(cfg), cfg.puppet_listen[1], node.hostname, chosen)),
            f"etc/systemd/system/{FIRST_BOOT_UNIT}": _text(first_boot_unit(plan.status_url, chosen)),
            f"etc/systemd/system/{PUPPET_RUN_UNIT}": _text(puppet_run_unit(chosen)),
            PUPPET_RUN_SCRIPT: BundleFile(
                puppet_run_script(plan.status_url, cfg.puppet_first_run_attempts, cfg.puppet_first_run_timeout, chosen).encode(), 0o755
            ),
            PUPPET_RUN_MARKER: _text("written by oci-install: oci-puppet-first-run.service runs once, and removes it\n"),
        }
    )
    files.update(_pki_files(store, serial, node.hostname))
    files.update(_ssh_files(store, node, chosen))
    files.update(_puppet_files(store, node.hostname))
    files.update({path: BundleFile(data, 0o644) for path, data in node.swift_rings.items()})
    files.update(node.extras.files)
    assert sorted(files) == list(plan.files), "the plan lists what the bundle writes"
    assert all(f.mode in MODES for f in files.values())
    return plan, files


# ---------------------------------------------------------------------------------------------- the commands
def _refuse_unless_ready(store: Store, machine: Machine) -> None:
    if machine.enrolment is None:
        raise Conflict(f"machine {machine.serial} is in no cluster", hint=f"machine-add {machine.serial} CLUSTER ROLE LOCATION first")
    if machine.status is not MachineStatus.LIVE:
        raise Conflict(
            f"machine {machine.serial} is {machine.status.value}, not live",
            hint="an install starts from the live image (machine-reboot-on-live)",
        )
    if store.read_blob("pki", "oci-ca.pem") is None:
        raise Conflict("the certificate authority is not initialised", hint="oci-pki init")
    if not puppet_ca.ready(store):
        raise Conflict("no Puppet CA on this master", hint="run oci-puppet-setup")


def _write(store: Store, machine: Machine) -> None:
    """Under the machine's lock: the machine, and a heartbeat that makes the next report take the full path
    (and see the status)."""
    store.write_machine(machine)
    beat = store.heartbeat(machine.serial)
    if beat is not None:
        store.write_heartbeat(machine.serial, replace(beat, hardware_digest=""))


def claim(store: Store, serial: str, host_key: str) -> Machine:
    """``live`` -> ``installing`` with a new install record (keeping the host key the bundle carries), checked
    again under the lock: of two install-os at once, one goes on."""
    with store.machine_lock([serial]):
        machine = store.get(Machine, serial)
        _refuse_unless_ready(store, machine)
        _write(store, status.begin_install(machine, _now(), host_key))
        return machine


def _release(store: Store, serial: str, reason: str) -> None:
    """Back to ``live`` after a failed hand-over, recorded as the install's failure at its ``handover`` step
    (unless something else changed the status meanwhile)."""
    with store.machine_lock([serial]):
        machine = store.get(Machine, serial)
        if machine.status is MachineStatus.INSTALLING:
            line = " ".join(reason.split())[:MAX_ERROR_LENGTH] or "failed"
            _write(store, status.apply(machine, Phase.LIVE, status.StepReport("handover", None, line), None, _now()))


def summary(plan: InstallPlan) -> str:
    layout = plan.layout
    root = f"RAID {layout.raid_level} over {', '.join(layout.disks)}" if layout.raid_level else layout.disks[0]
    return (
        f"{plan.hostname} ({plan.role} in {plan.cluster}): {plan.boot.value} boot, root on {root}, {plan.release} from {plan.mirror}, "
        f"{len(plan.packages) + len(plan.extra_packages)} packages, {len(plan.files)} files"
    )


def plan_of(store: Store, serial: str) -> InstallPlan:
    """The plan of ``serial``'s install, without its bundle: no key or certificate is issued."""
    return _plan(store, _read_node(store, serial))


def install_command(store: Store, ident: str) -> dict[str, Any]:
    """``machine-display-install-cmd``: the command the master runs on the node, and the plan in one line."""
    serial = resolve(store, ident)
    plan = plan_of(store, serial)
    return {"serial": serial, "command": shlex.join(NODE_COMMAND), "summary": summary(plan)}


def install_os(store: Store, ident: str, dry_run: bool = False) -> dict[str, Any]:
    """``machine-install-os``: hand the node its bundle and start ``oci-install`` there; returns at once.

    Refused unless the machine is live, in a cluster, and the PKI and the Puppet CA exist. The machine is ``installing`` from
    the hand-over on (a second install-os is refused); if the hand-over fails it is ``live`` again. The BMC,
    when known, boots the disk from now on (a BMC that fails is a warning: /boot/ipxe sends an installing
    machine to its disk anyway)."""
    serial = resolve(store, ident)
    _refuse_unless_ready(store, store.get(Machine, serial))
    if dry_run:
        plan = plan_of(store, serial)
        return {"serial": serial, "dry_run": True, "summary": summary(plan), "plan": describe(plan)}
    plan, files = plan_for(store, serial)
    bundle = pack(plan, files)
    node = remote.node_of(store, serial)
    host_key = " ".join(files[f"{HOST_KEY}.pub"].data.decode().split()[:2])
    machine = claim(store, serial, host_key)
    try:
        remote.run_on(
            store,
            node,
            ["sh", "-c", HANDOVER, "oci-handover", install_plan.BUNDLE_PATH, *NODE_COMMAND],
            timeout=HANDOVER_TIMEOUT,
            stdin=bundle,
        )
    except CommandError as exc:  # the node answered, and the hand-over script failed there
        reason = exc.output.strip().splitlines()[-1] if exc.output.strip() else f"exit code {exc.returncode}"
        _release(store, serial, f"oci-install did not start: {reason}")
        raise Conflict(f"oci-install did not start on {serial}: {reason}", hint="is it the OCI live image?") from None
    except OciError as exc:  # unreachable, refused: nothing started there
        _release(store, serial, exc.message.splitlines()[0])
        raise
    except BaseException:  # interrupted
        _release(store, serial, "interrupted")
        raise
    result: dict[str, Any] = {
        "serial": serial,
        "hostname": plan.hostname,
        "status": MachineStatus.INSTALLING.value,
        "address": node.address,
        "command": shlex.join(NODE_COMMAND),
        "bundle_bytes": len(bundle),
        "bundle_sha256": hashlib.sha256(bundle).hexdigest(),
        "summary": summary(plan),
    }
    try:
        result["bmc"] = "boot from disk" if bmcops.boot_from_disk(store, serial, uefi=machine.hardware.uefi is True) else "none"
    except OciError as exc:
        result["bmc"] = "failed"
        result["warning"] = f"the BMC did not take the boot device: {exc.message.splitlines()[0]}"
    return result
