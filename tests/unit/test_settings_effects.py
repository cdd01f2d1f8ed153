"""Every machine and cluster setting does what the settings table says: set to another value, it changes what
OCI makes of the cluster (a host's ENC document, an install plan, a host's network plan, the Swift rings'
devices or parameters), unless the table says why it has no effect in this release (Setting.no_effect), in
which case it changes none of them. A few are records for people (notes, where the machine is racked)."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

import pytest

from oci.enc import refresh
from oci.errors import OciError
from oci.install.plan import to_json
from oci.model import Cluster, Machine
from oci.model.settings import CLUSTER_SETTINGS, MACHINE_SETTINGS
from oci.netconf import service as netconf
from oci.service import clusters, install, machines, swiftring

# Recorded for people and for racking (machine-show, machine-guess-racking): nothing is built from them.
RECORDS = {"notes", "loc_dc", "loc_row", "loc_rack", "loc_u_start", "loc_u_end"}
ROLES = ["controller", "compute", "network", "swiftproxy", "swiftstore", "cephmon", "cephosd"]
DISKS = [{"name": "sda", "size_bytes": 480 << 30}, {"name": "sdb", "size_bytes": 480 << 30}, {"name": "sdc", "size_bytes": 480 << 30},
         {"name": "sdd", "size_bytes": 480 << 30}]  # fmt: skip
COMPUTE, STORE = "S01", "S04"

# Another value for each setting, and the settings it acts with (a RAID member matters only with that RAID).
OTHER_MACHINE: dict[str, tuple[Any, dict[str, Any]]] = {
    "dest_blk": ("sdb", {}),
    "install_on_raid": (True, {}),
    "raid_type": ("5", {"install_on_raid": True}),
    "raid_dev0": ("sdc", {"install_on_raid": True}),
    "raid_dev1": ("sdc", {"install_on_raid": True}),
    "raid_dev2": ("sdd", {"install_on_raid": True, "raid_type": "5", "raid_dev2": "sdc"}),
    "raid_dev3": ("sda", {"install_on_raid": True, "raid_type": "10", "raid_dev0": "sdb", "raid_dev1": "sdc", "raid_dev2": "sdd"}),
    "hardware_raid": ("1", {}),
    "hardware_raid_drives": (3, {"hardware_raid": "0"}),
    "hardware_raid_drive_kind": ("ssd", {"hardware_raid": "1"}),
    "serial_console_device": ("ttyS0", {}),
    "nested_virt": ("yes", {}),
    "cpu_mode": ("host-model", {}),
    "cpu_model": ("Haswell", {"cpu_mode": "custom"}),
    "neutron_external_network_name": ("provider", {}),
}
OTHER_CLUSTER: dict[str, tuple[Any, dict[str, Any]]] = {
    "cpu_model": ("Haswell", {"cpu_mode": "custom"}),
    "cpu_model_extra_flags": ("pcid,-ssbd", {}),
    "monitoring_graphite_host": ("graphite.example.com", {"enable_monitoring_graphs": True}),
    "asn": (65000, {"bgp_to_the_host": True}),
}


def _other(setting, explicit):
    if setting.name in explicit:
        return explicit[setting.name]
    default = setting.default
    if setting.kind.value == "bool":
        return not default, {}
    if setting.kind.value == "int":
        return (default or 0) + 1 if setting.maximum is None or (default or 0) < setting.maximum else default - 1, {}
    if setting.kind.value == "float":
        return (default or 0) + 0.5, {}
    if setting.choices:
        return next(c for c in setting.choices if c != default), {}
    examples = {"fqdn": "other.example.com", "ipv4": "192.0.2.53", "ip": "2001:db8::53", "uuid": "0b7e1f9c-2a7e-4f1a-9d43-5a1c7b1e3f10",
                "uuids": "0b7e1f9c-2a7e-4f1a-9d43-5a1c7b1e3f10", "url": "http://mirror.example.com/debian", "name": "other",
                "names": "pcid", "text": "other text", "device": "sdb", "tty": "ttyS0"}  # fmt: skip
    return examples[setting.kind.value], {}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One cluster with a machine of each role (the store and discover fixtures are per test: built here)."""
    from conftest import NOW, one_cluster, report_body
    from oci.config import Config
    from oci.report import v1
    from oci.service import reports
    from oci.store import Store

    root = tmp_path_factory.mktemp("site") / "state"
    root.mkdir()
    config = Config(state_dir=root, hardware_profiles=root.parent / "none.yaml", racking_rules=root.parent / "none.yaml",
                    master_address=IPv4Address("192.168.100.1"))  # fmt: skip
    store = one_cluster(Store(root, lock_timeout=10, config=config), vips=True)
    for i, role in enumerate(ROLES):
        serial = f"S{i:02d}"
        body = report_body(serial, disks=DISKS, nics=[{"name": "eth0", "mac": f"52:54:00:12:34:{i:02x}", "speed_mbps": 1000}])
        reports.record(store, v1.parse(body), IPv4Address(f"192.168.100.{i + 10}"), NOW)
        machines.add(store, serial, "cl1", role, "loc1")
    return store


def _outcome(call) -> Any:
    try:
        return call()
    except OciError as exc:  # a refusal is an effect too (bgp_to_the_host: oci-netconf refuses it)
        return f"refused: {exc.message}"


def fingerprint(store) -> dict[str, Any]:
    """What OCI makes of the cluster from its settings."""
    serials = [f"S{i:02d}" for i in range(len(ROLES))]
    return {
        "enc": refresh.render(store, "cl1"),
        "plans": {s: _outcome(lambda s=s: to_json(install.plan_of(store, s))) for s in serials},
        "networks": {s: _outcome(lambda s=s: netconf.plan(store, s).files) for s in serials},
        "ring devices": _outcome(lambda: swiftring.stores(store, "cl1")),
        "ring parameters": swiftring.ring_parameters(store.get(Cluster, "cl1")),
    }


def _effect(store, setter, table, name, explicit) -> bool:
    value, companions = _other(table[name], explicit)
    setter(companions)
    try:
        before = fingerprint(store)
        setter({**companions, name: value})
        return fingerprint(store) != before
    finally:
        setter(None)


@pytest.mark.parametrize("name", sorted(MACHINE_SETTINGS))
def test_a_machine_setting_has_its_effect(site, name):
    target = STORE if name.startswith("swift_store_") else COMPUTE

    def setter(values):
        wanted = dict(values or {})
        gone = sorted(set(site.get(Machine, target).settings) - set(wanted))
        if wanted or gone:
            machines.set_(site, target, wanted, gone)

    if name in RECORDS:
        assert not _effect(site, setter, MACHINE_SETTINGS, name, OTHER_MACHINE), "a record for people changes nothing"
        return
    changed = _effect(site, setter, MACHINE_SETTINGS, name, OTHER_MACHINE)
    assert changed == (not MACHINE_SETTINGS[name].no_effect), MACHINE_SETTINGS[name].no_effect or "no effect, and no reason given"


# initial_cluster_setup is the cluster's state, not a build input: the first master's Puppet success ends it, which
# sets off what follows (tests/unit/test_reactions.py).
@pytest.mark.parametrize("name", sorted(set(CLUSTER_SETTINGS) - {"initial_cluster_setup"}))
def test_a_cluster_setting_has_its_effect(site, name):
    def setter(values):
        wanted = dict(values or {})
        gone = sorted(set(site.get(Cluster, "cl1").settings) - set(wanted))
        if wanted or gone:
            clusters.set_(site, "cl1", wanted, gone)

    changed = _effect(site, setter, CLUSTER_SETTINGS, name, OTHER_CLUSTER)
    assert changed == (not CLUSTER_SETTINGS[name].no_effect), CLUSTER_SETTINGS[name].no_effect or "no effect, and no reason given"


def test_ocicli_says_when_a_setting_has_no_effect(site, capsys):
    from oci.cli.main import main

    assert main(["cluster-set", "cl1", "--install-octavia", "no", "--region-name", "Other"], store_factory=lambda: site) == 0
    err = capsys.readouterr().err
    assert err == "note: --install-octavia has no effect in this release: Octavia is not deployed by OCI's Puppet classes\n"
    assert "[no effect in this release: docs/differences.md]" in " ".join(_help("cluster-set", capsys).split())
    clusters.set_(site, "cl1", {}, ["install_octavia", "region_name"])


def _help(command: str, capsys) -> str:
    from oci.cli.main import main

    with pytest.raises(SystemExit):
        main([command, "--help"])
    return capsys.readouterr().out
