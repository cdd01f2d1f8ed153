"""The ENC: golden classifications for a few cluster shapes, the decisions case by case, Puppet's contract,
and secrets scoping. Golden files: tests/data/golden/enc/<shape>/<host>.yaml, secrets masked; after a
deliberate change run ``OCI_UPDATE_GOLDEN=1 make check`` and review the diff."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import yaml

from conftest import REPO
from oci.enc import classify, refresh
from oci.enc.secrets import NEEDED_BY
from oci.model import ClusterSecrets
from oci.service import clusters, machines, networks, topology

GOLDEN = REPO / "tests" / "data" / "golden" / "enc"
SHAPES = {
    "minimal": ["controller"] * 3 + ["compute"] * 2,
    "ceph": ["controller"] * 3 + ["compute"] * 2 + ["cephmon"] * 3 + ["cephosd"] * 3,
    "swift": ["controller"] * 3 + ["swiftproxy"] * 2 + ["swiftstore"] * 3,
    "dedicated": ["controller"] * 3 + ["network"] * 2 + ["sql"] * 3 + ["messaging"] * 3 + ["compute"] * 2 + ["volume"],
}


def build(store, discover, shape, cluster="cl1", base=101):
    if not store.find(ClusterSecrets, cluster) and not list((store.root / "locations").glob("*")):
        topology.region_create(store, "r1")
        topology.location_create(store, "loc1", "r1")
    networks.create(store, f"{cluster}-mgmt", f"192.168.{base}.0", "24", "loc1", "no")
    networks.create(store, f"{cluster}-pub", f"203.0.{base}.0", "28", "loc1", "yes")
    networks.create(store, f"{cluster}-vip", f"10.{base}.0.0", "24", "loc1", "no")
    clusters.create(store, cluster, "example.com")
    networks.add(store, f"{cluster}-mgmt", cluster, "all", "eth0")
    networks.add(store, f"{cluster}-pub", cluster, "all", "eth0")
    networks.add(store, f"{cluster}-vip", cluster, "vip", "eth0")
    for i, role in enumerate(SHAPES[shape]):
        serial = f"{cluster.upper()}S{i:02d}"
        discover(serial, address=f"192.168.100.{i + 10}")
        machines.add(store, serial, cluster, role, "loc1")
    return store


def masked(text):
    return re.sub(r"^(\s+(?:pass_\w+|(?:api_)?ssl_\w+|ssh_user_ca): ).*$", r"\1<secret>", text, flags=re.MULTILINE)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_golden_classifications(store, discover, shape):
    build(store, discover, shape)
    documents = refresh.render(store, "cl1")
    folder = GOLDEN / shape
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.yaml"):
            old.unlink()
        for host, text in documents.items():
            (folder / f"{host}.yaml").write_text(masked(text))
    assert sorted(p.stem for p in folder.glob("*.yaml")) == sorted(documents)
    for host, text in documents.items():
        assert masked(text) == (folder / f"{host}.yaml").read_text(), host


def role_class(store, host):
    document = refresh.show(store, host)
    return next(v for k, v in document["classes"].items() if k not in ("oci::generic", "oci::cluster"))


def cluster_class(store, host="cl1-controller-1.example.com"):
    """The cluster-wide values, as sent to the host (the same for every host of the cluster)."""
    return refresh.show(store, host)["classes"]["oci::cluster"]


def facts(store, cluster="cl1"):
    return refresh.facts(store, cluster)


def test_cluster_values_are_sent_once_and_the_same_to_every_host(store, discover):
    build(store, discover, "dedicated")
    documents = {host: refresh.show(store, host) for host in refresh.render(store, "cl1")}
    assert len({repr(d["classes"]["oci::cluster"]) for d in documents.values()}) == 1
    shared = set(cluster_class(store))
    for host, document in documents.items():
        for name, values in document["classes"].items():
            assert name == "oci::cluster" or not shared & set(values), (host, name, shared & set(values))


def test_decisions_minimal(store, discover):
    build(store, discover, "minimal")
    cl = cluster_class(store)
    assert (cl["has_subrole_db"], cl["has_subrole_messaging"], cl["has_subrole_network_node"]) == (True, True, True)
    assert cl["all_sql_ip"] == cl["all_masters_ip"] and cl["all_rabbits"] == cl["all_masters"]  # controllers host Galera and RabbitMQ
    assert cl["sql_vip_ip"] == cl["vip_ipaddr"]  # without sql nodes, Galera sits behind the API VIP
    f = facts(store)
    assert (cl["glance_backend"], classify.cinder_backup_backend(f), classify.ceph_osds(f)) == ("file", "none", [])
    assert cl["has_subrole_compute_services"] is True and cl["has_subrole_cinder"] is False
    compute = role_class(store, "cl1-compute-1.example.com")
    assert compute["has_subrole_dhcp_agent"] is True  # no network nodes: computes run the DHCP agent
    ctl = role_class(store, "cl1-controller-1.example.com")
    assert ctl["is_first_master"] is True and role_class(store, "cl1-controller-2.example.com")["is_first_master"] is False


def test_decisions_ceph(store, discover):
    build(store, discover, "ceph")
    cl, f = cluster_class(store), facts(store)
    assert (cl["glance_backend"], classify.cinder_backup_backend(f)) == ("ceph", "ceph")
    assert [h.hostname for h in classify.ceph_monitors(f)] == [f"cl1-cephmon-{i}.example.com" for i in (1, 2, 3)]
    assert cl["ceph_mon_initial_members"] == ["cl1-cephmon-1", "cl1-cephmon-2", "cl1-cephmon-3"]
    assert cl["has_subrole_cinder"] is True


def test_decisions_ceph_without_monitors_uses_controllers(store, discover):
    build(store, discover, "minimal")
    machines.set_(store, "CL1S03", {"compute_is_cephosd": True}, [])  # a hyper-converged compute
    assert [h.hostname for h in classify.ceph_osds(facts(store))] == ["cl1-compute-1.example.com"]
    assert cluster_class(store)["ceph_mon_initial_members"] == ["cl1-controller-1", "cl1-controller-2", "cl1-controller-3"]


def test_decisions_swift(store, discover):
    build(store, discover, "swift")
    cl = cluster_class(store)
    assert (cl["glance_backend"], classify.cinder_backup_backend(facts(store))) == ("swift", "swift")
    assert cl["all_swiftproxy"] == ["cl1-swiftproxy-1.example.com", "cl1-swiftproxy-2.example.com"]
    assert cl["all_swiftproxy_ip"] == [role_class(store, h)["machine_ip"] for h in cl["all_swiftproxy"]]
    assert role_class(store, "cl1-swiftstore-1.example.com")["machine_ip"] is not None
    assert "pass_swift_authtoken" in role_class(store, "cl1-controller-1.example.com")  # Swift's user in Keystone


def test_swift_store_devices_are_the_disks_its_install_leaves_alone(store, discover):
    """The store's block_devices are its rings' devices: every disk but the system's (or the RAID members), USB apart."""
    build(store, discover, "minimal")
    disks = [{"name": n, "size_bytes": 10**12} for n in ("vda", "vdb", "vdc")] + [{"name": "sdz", "size_bytes": 10**10, "transport": "usb"}]
    discover("ST1", address="192.168.100.60", disks=disks)
    hostname = machines.add(store, "ST1", "cl1", "swiftstore", "loc1")["hostname"]
    assert role_class(store, hostname)["block_devices"] == ["vdb", "vdc"]
    machines.set_(store, "ST1", {"install_on_raid": True, "raid_type": "1", "raid_dev0": "vda", "raid_dev1": "vdb"}, [])
    assert role_class(store, hostname)["block_devices"] == ["vdc"]
    machines.set_(store, "ST1", {"raid_dev1": "vdq"}, [])  # not a disk it has: no devices, and its rings refuse it
    assert role_class(store, hostname)["block_devices"] == []


def test_swift_stores_without_proxies_are_no_store_for_glance(store, discover):
    build(store, discover, "minimal")
    discover("ST1", address="192.168.100.60")
    machines.add(store, "ST1", "cl1", "swiftstore", "loc1")
    cl = cluster_class(store)
    assert (cl["glance_backend"], classify.cinder_backup_backend(facts(store)), cl["all_swiftproxy"]) == ("file", "none", [])


def test_decisions_dedicated_nodes(store, discover):
    build(store, discover, "dedicated")
    cl = cluster_class(store)
    assert (cl["has_subrole_db"], cl["has_subrole_messaging"], cl["has_subrole_network_node"]) == (False, False, False)
    assert cl["all_rabbits"] == ["cl1-messaging-1.example.com", "cl1-messaging-2.example.com", "cl1-messaging-3.example.com"]
    assert len(cl["all_sql_ip"]) == 3 and not set(cl["all_sql_ip"]) & set(cl["all_masters_ip"])
    assert cl["sql_vip_ip"] != cl["vip_ipaddr"] and cl["sql_vip_ip"] is not None
    assert role_class(store, "cl1-compute-1.example.com")["has_subrole_dhcp_agent"] is False
    assert classify.database_hosts(facts(store))[0].hostname == "cl1-sql-1.example.com"


def test_secrets_are_scoped_by_cluster_and_role(store, discover):
    build(store, discover, "dedicated", "cla", 101)
    build(store, discover, "swift", "clb", 102)
    a = store.get(ClusterSecrets, "cla").values
    b_files = "".join(p.read_text() for p in (store.root / "enc" / "cluster-clb").glob("*.yaml"))
    assert not any(value in b_files for value in a.values())
    for path in (store.root / "enc").rglob("*.yaml"):
        document = yaml.safe_load(path.read_text())
        role = document["parameters"]["oci_role"]
        given = {k[5:] for cls in document["classes"].values() for k in cls if k.startswith("pass_")}
        assert given <= set(NEEDED_BY.get(role, ())), (path.name, given - set(NEEDED_BY.get(role, ())))
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    compute = role_class(store, "cla-compute-1.example.com")
    assert "pass_mysql_root" not in compute and "pass_keystone_admin" not in compute
    assert set(role_class(store, "clb-swiftstore-1.example.com")) & {f"pass_{n}" for n in NEEDED_BY["swiftstore"]} == {
        "pass_swift_hash_path_prefix", "pass_swift_hash_path_suffix"}  # fmt: skip
    assert oct((store.root / "secrets" / "cla.yaml").stat().st_mode & 0o777) == "0o600"


def test_only_changed_files_are_rewritten_and_leavers_removed(store, discover):
    build(store, discover, "minimal")
    assert refresh.refresh(store, "cl1")["written"] == []
    machines.remove(store, "CL1S04")
    assert not (store.root / "enc" / "cluster-cl1" / "cl1-compute-2.example.com.yaml").exists()
    clusters.set_(store, "cl1", {"region_name": "Paris"}, [])
    assert cluster_class(store, "cl1-compute-1.example.com")["region_name"] == "Paris"


def oci_enc(state, *args):
    env = {**os.environ, "OCI_STATE_DIR": str(state)}
    return subprocess.run([str(REPO / "bin" / "oci-enc"), *args], env=env, capture_output=True, text=True, timeout=30)


def test_puppet_enc_contract(store, discover):
    build(store, discover, "minimal")
    done = oci_enc(store.root, "cl1-compute-1.example.com")
    assert done.returncode == 0 and done.stderr == ""
    document = yaml.safe_load(done.stdout)
    assert set(document) == {"classes", "parameters", "environment"}
    assert isinstance(document["classes"], dict) and "oci::compute" in document["classes"]
    assert document["parameters"]["oci_role"] == "compute"
    unknown = oci_enc(store.root, "nope.example.com")
    assert unknown.returncode == 1 and unknown.stdout == "" and "unknown node nope.example.com" in unknown.stderr
    assert oci_enc(store.root, "../etc/passwd").returncode == 1
    assert oci_enc(store.root).returncode == 2


def test_a_secret_added_by_a_new_release_is_made_once_and_kept(store, discover):
    build(store, discover, "minimal")
    secrets = store.get(ClusterSecrets, "cl1")
    store_values = dict(secrets.values)
    del store_values["nova_db"]
    with store.topology_lock():
        tx = store.transaction()
        tx.put(ClusterSecrets("cl1", store_values))
        tx.commit()
    refresh.refresh(store, "cl1")  # completing the secrets is the refresh's first step, a write by design
    first = refresh.render(store, "cl1")
    assert refresh.render(store, "cl1") == first
    assert store.get(ClusterSecrets, "cl1").values["nova_db"] != secrets.values["nova_db"]


def state_files(store):
    kept = (
        p
        for p in sorted(store.root.rglob("*"))
        if p.is_file() and "locks" not in p.parts and "cache" not in p.parts and p.name != "audit.log"
    )
    return {p.relative_to(store.root): p.read_bytes() for p in kept}


def test_dry_run_shows_the_changes_and_changes_nothing(store, discover):
    from oci.operations import execute
    from oci.service import dryrun

    build(store, discover, "minimal")
    discover("NEW1", address="192.168.100.99")
    before = state_files(store)
    found = dryrun.dry_run(store, "machine_add", {"serial": "NEW1", "cluster": "cl1", "role": "compute", "location": "loc1"}, execute)
    assert state_files(store) == before
    assert found["result"]["hostname"] == "cl1-compute-3.example.com"
    # Nothing cluster-wide depends on the number of computes, and computes are in no other host's /etc/hosts:
    # the new host's classification is the only change.
    assert list(found["changes"]) == ["cl1-compute-3.example.com"]
    every = "".join(found["changes"].values())
    assert "<secret>" in every and not any(v in every for v in store.get(ClusterSecrets, "cl1").values.values())
    assert not list(store.root.glob(".dry-run-*"))
    with pytest.raises(Exception, match="no dry run for cluster_delete"):
        dryrun.dry_run(store, "cluster_delete", {"name": "cl1"}, execute)


def test_enc_show_masks_secrets(store, discover):
    build(store, discover, "minimal")
    shown = refresh.show(store, "cl1-controller-1.example.com")
    assert shown["classes"]["oci::controller"]["pass_keystone_admin"] == "<secret>"


def test_hyper_converged_compute_is_an_osd_until_the_controllers_are_up(store, discover):
    from ipaddress import IPv4Address

    from conftest import NOW
    from oci.service import status

    build(store, discover, "minimal")
    machines.set_(store, "CL1S03", {"compute_is_cephosd": True}, [])
    classes = refresh.show(store, "cl1-compute-1.example.com")["classes"]
    assert "oci::cephosd" in classes and "oci::compute" not in classes
    assert "oci::compute" in refresh.show(store, "cl1-compute-2.example.com")["classes"]  # an ordinary compute
    for serial in ("CL1S00", "CL1S01", "CL1S02"):
        for phase in ("installed", "puppet-running", "puppet-success"):
            status.record(store, serial, phase, IPv4Address("192.168.101.2"), NOW)
        ready = serial == "CL1S02"
        assert ("oci::compute" in refresh.show(store, "cl1-compute-1.example.com")["classes"]) is ready


def test_the_api_certificate_and_key_go_to_controllers_only(store, discover, tmp_path):
    build(store, discover, "dedicated")
    document = yaml.safe_load((store.root / "enc" / "cluster-cl1" / "cl1-controller-1.example.com.yaml").read_text())
    controller = document["classes"]["oci::controller"]
    assert role_class(store, "cl1-controller-1.example.com")["api_ssl_key"] == "<key material>"  # enc-show masks it
    (tmp_path / "api.pem").write_text(controller["api_ssl_certificate"])
    (tmp_path / "chain.pem").write_bytes((store.root / "pki" / "ca-chain.pem").read_bytes())
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "chain.pem"), "-verify_hostname", "cl1-api.example.com",
                               str(tmp_path / "api.pem")], capture_output=True, text=True, check=False)  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    key = controller["api_ssl_key"]
    assert "PRIVATE KEY" in key
    for path in (store.root / "enc").rglob("*.yaml"):
        if "controller" not in path.name:
            assert key not in path.read_text() and "api_ssl" not in path.read_text(), path.name


def test_cluster_settings_reach_the_l2_agent_and_libvirt(store, discover):
    build(store, discover, "minimal")
    assert cluster_class(store)["neutron_l2_agent"] == "openvswitch"
    assert role_class(store, "cl1-compute-1.example.com")["virt_type"] == "kvm"
    clusters.set_(store, "cl1", {"neutron_l2_agent": "linuxbridge", "virt_type": "qemu"}, [])
    assert cluster_class(store)["neutron_l2_agent"] == "linuxbridge"
    assert role_class(store, "cl1-compute-1.example.com")["virt_type"] == "qemu"


def test_decisions_from_settings(store, discover):
    build(store, discover, "ceph")
    machines.set_(store, "CL1S04", {"force_dhcp_agent": True, "cpu_allocation_ratio": 4.0}, [])
    clusters.set_(store, "cl1", {"glance_prefer_ceph_over_swift": False}, [])
    assert cluster_class(store)["glance_backend"] == "ceph"  # no Swift: Ceph all the same
    assert role_class(store, "cl1-compute-1.example.com")["has_subrole_dhcp_agent"] is True
    assert role_class(store, "cl1-compute-2.example.com")["cpu_allocation_ratio"] == 4.0


def test_backends_when_both_ceph_and_swift(store, discover):
    build(store, discover, "ceph")
    for i, role in enumerate(["swiftproxy", "swiftstore", "swiftstore", "swiftstore"]):
        discover(f"SW{i}", address=f"192.168.100.{60 + i}")
        machines.add(store, f"SW{i}", "cl1", role, "loc1")
    assert (cluster_class(store)["glance_backend"], classify.cinder_backup_backend(facts(store))) == ("ceph", "swift")
    clusters.set_(store, "cl1", {"glance_prefer_ceph_over_swift": False, "cinder_backup_prefer_swift": False}, [])
    assert (cluster_class(store)["glance_backend"], classify.cinder_backup_backend(facts(store))) == ("swift", "ceph")


def test_a_changed_master_address_reaches_every_host_file(store, discover):
    """[network] oci_ip changes in the configuration file, not through an operation: the ENC follows when the
    API starts (it reads the configuration then) and before ocicli's next change in local mode."""
    from dataclasses import replace
    from ipaddress import IPv4Address

    from oci.api import make_app
    from oci.cli.backend import LocalBackend
    from oci.store import Store

    build(store, discover, "minimal")
    host = "cl1-controller-1.example.com"

    def mirror(site):
        return yaml.safe_load(refresh.lookup(site, host))["classes"]["oci::cluster"]["debian_mirror"]

    def puppet_lines(site):
        return [line.strip() for line in refresh.lookup(site, host).decode().splitlines() if line.endswith(' puppet"')]

    assert puppet_lines(store) == []  # no [network] oci_ip in the test configuration
    moved = Store(store.root, lock_timeout=10, config=replace(store.config, master_address=IPv4Address("10.9.9.9")))
    make_app(moved)
    assert puppet_lines(moved) == ['- "10.9.9.9 puppet"']
    assert refresh.follow_configuration(moved) == []  # nothing to do once followed
    # The Debian mirror Puppet gives apt is the one the install wrote: through the master's package cache.
    assert mirror(moved) == "http://10.9.9.9:3142/deb.debian.org/debian"
    direct = Store(store.root, lock_timeout=10, config=replace(moved.config, package_cache=False))
    assert len(refresh.follow_configuration(direct)) == 1 and mirror(direct) == "http://deb.debian.org/debian"

    LocalBackend(store).call("role_create", name="extra")
    assert puppet_lines(store) == []


def test_a_hardware_profile_s_settings_reach_the_classification_under_the_machine_s_own(store, discover):
    build(store, discover, "minimal")
    store.config.hardware_profiles.write_text(
        "qemu:\n  role: compute\n  match: {manufacturer: QEMU}\n"
        "  settings: {nova_reserved_host_memory_mb: 16384, disk_allocation_ratio: 2.0}\n"
    )
    machines.set_(store, "CL1S03", {"disk_allocation_ratio": 3.0}, [])  # the machine's own wins
    refresh.refresh(store, "cl1")
    assert role_class(store, "cl1-compute-1.example.com")["nova_reserved_host_memory_mb"] == 16384
    assert role_class(store, "cl1-compute-1.example.com")["disk_allocation_ratio"] == 3.0
    assert role_class(store, "cl1-compute-2.example.com")["disk_allocation_ratio"] == 2.0
    store.config.hardware_profiles.write_text("qemu: {role: compute, colour: red}\n")  # a broken file: the machines' own
    refresh.refresh(store, "cl1")
    assert role_class(store, "cl1-compute-2.example.com")["nova_reserved_host_memory_mb"] == 4096
