"""Puppet from Debian 12 with the Debian-packaged modules, offline: every manifest of puppet-modules/oci
validates, and the catalog of every host of a cluster with every role compiles from its ENC (oci-enc as
Puppet's exec node terminus), with no error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address

import pytest

from conftest import NOW, REPO, report_body
from oci.enc import refresh
from oci.netconf import service as netconf_service
from oci.report import v1
from oci.service import clusters, machines, networks, reports, topology

MODULES = REPO / "puppet-modules"
DEBIAN_MODULES = "/usr/share/puppet/modules"
EVERY_ROLE = (["controller"] * 3 + ["compute"] * 2 + ["network", "volume"] + ["cephmon"] * 3 + ["cephosd"] * 3 + ["swiftproxy"] * 2
              + ["swiftstore"] * 3 + ["messaging"] * 3 + ["sql"] * 3)  # fmt: skip
MINIMAL = ["controller"] * 3 + ["compute"] * 2


def puppet():
    path = shutil.which("puppet")
    if path is None:
        pytest.fail("puppet is not installed: run make deps")
    return path


def test_every_manifest_validates():
    manifests = sorted(MODULES.rglob("*.pp"))
    assert len(manifests) >= 14
    done = subprocess.run([puppet(), "parser", "validate", *map(str, manifests)], capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stderr.splitlines() if "Error" in line and "Facter" not in line]
    assert done.returncode == 0 and not errors, done.stderr


def cluster_with(store, roles, name="cl1"):
    topology.region_create(store, "r1")
    topology.location_create(store, "loc1", "r1")
    networks.create(store, "mgmt", "192.168.101.0", "24", "loc1", "no")
    networks.create(store, "pub", "203.0.113.0", "28", "loc1", "yes")
    networks.create(store, "vipnet", "10.101.0.0", "24", "loc1", "no")
    networks.create(store, "tunnels", "10.102.0.0", "24", "loc1", "no")
    clusters.create(store, name, "example.com")
    for network, role in (("mgmt", "all"), ("pub", "all"), ("vipnet", "vip"), ("tunnels", "vm-net")):
        networks.add(store, network, name, role, "eth0")
    hostnames = []
    for i, role in enumerate(roles):
        serial = f"H{i:02d}"
        disks = [{"name": f"vd{letter}", "size_bytes": 10**12} for letter in "abc"]
        reports.record(store, v1.parse(report_body(serial, disks=disks)), IPv4Address(f"192.168.100.{i + 10}"), NOW)
        hostnames.append(machines.add(store, serial, name, role, "loc1")["hostname"])
    return hostnames


def _resources(output):
    """A compiled catalog's resources by (type, title)."""
    catalog = json.loads(output[output.index("{") :])
    return {(r["type"], r["title"]): r for r in catalog["resources"]}


def compile_catalog(tmp_path, state, hostname, facts=None):
    """``facts``: facts the node would have (FACTER_<name>), over this machine's."""
    enc = tmp_path / "enc.sh"
    if not enc.exists():
        enc.write_text(f"#!/bin/sh\nOCI_STATE_DIR={state} exec {REPO / 'bin' / 'oci-enc'} \"$1\"\n")
        enc.chmod(0o755)
    argv = [puppet(), "catalog", "find", hostname, "--terminus", "compiler", "--node_terminus", "exec", "--external_nodes", str(enc),
            "--modulepath", f"{MODULES}:{DEBIAN_MODULES}", "--vardir", str(tmp_path / hostname / "var"),
            "--confdir", str(tmp_path / "conf"), "--codedir", str(tmp_path / "code"), "--render-as", "json"]  # fmt: skip
    env = {**os.environ, "LANG": "C.UTF-8", **{f"FACTER_{name}": value for name, value in (facts or {}).items()}}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    # The catalog goes to stdout; messages (with a harmless facter complaint about /proc/1/environ) to stderr.
    errors = [line for line in done.stderr.splitlines() if "Error:" in line and "Facter" not in line]
    return hostname, done.returncode, errors, '"name":' in done.stdout and "Compiled catalog for" in done.stdout + done.stderr, done.stdout


@pytest.mark.parametrize("shape", ["every-role", "minimal"])
def test_every_host_compiles(store, tmp_path, shape):
    hostnames = cluster_with(store, EVERY_ROLE if shape == "every-role" else MINIMAL)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda h: compile_catalog(tmp_path, store.root, h), hostnames))
    failed = [(h, errors[:2]) for h, code, errors, compiled, _ in results if code != 0 or errors or not compiled]
    assert not failed, failed
    catalogs = {h: catalog for h, *_, catalog in results}
    if shape == "minimal":  # Puppet keeps /etc/hosts exactly as the install wrote it (oci-netconf)
        for serial, hostname in enumerate(hostnames):
            catalog = json.loads(catalogs[hostname][catalogs[hostname].index("{") :])
            kept = next(r["parameters"]["content"] for r in catalog["resources"] if r["type"] == "File" and r["title"] == "/etc/hosts")
            assert kept == netconf_service.plan(store, f"H{serial:02d}").files["etc/hosts"], hostname
    if shape == "every-role":  # the classes do declare the services, not just compile
        assert '"title":"/dev/vdb"' in catalogs["cl1-cephosd-1.example.com"] and "Ceph::Osd" in catalogs["cl1-cephosd-1.example.com"]
        assert "Ceph::Mon" in catalogs["cl1-cephmon-1.example.com"]
        assert (
            "Class[Nova::Api]" in catalogs["cl1-controller-1.example.com"]
            or '"title":"Nova::Api"' in catalogs["cl1-controller-1.example.com"]
        )
        assert "Nova::Compute" in catalogs["cl1-compute-1.example.com"]
        # The first master syncs every schema, and syncs it again at each run until its services have started
        # after a sync (oci::schema_sync); the other masters sync nothing.
        first, other = (_resources(catalogs[f"cl1-controller-{n}.example.com"]) for n in (1, 2))
        projects = ("keystone", "glance", "heat", "placement", "neutron", "nova", "cinder")
        for project in projects:
            trigger = first[("Exec", f"oci-schema-not-synced-{project}")]["parameters"]
            assert trigger["unless"] == f"/usr/bin/test -e /var/lib/oci/schema-synced/{project}"
            marker = first[("Exec", f"oci-schema-synced-{project}")]["parameters"]
            assert f"Anchor[{project}::service::end]" in marker["require"]
        assert first[("Exec", "oci-schema-not-synced-nova")]["parameters"]["notify"] == [
            "Anchor[nova::dbsync_api::begin]", "Anchor[nova::dbsync::begin]"]  # fmt: skip
        assert ("Exec", "heat-dbsync") in first and ("Exec", "heat-dbsync") not in other
        # Each API's uwsgi workers follow the host's cores (os_workers), not the package's fixed count.
        apis = ("Keystone", "Placement_api", "Nova_api", "Nova_api_metadata", "Neutron_api", "Heat_api", "Cinder_api")
        for kind in (f"{api}_uwsgi_config" for api in apis):
            assert (kind, "uwsgi/processes") in first, kind
        # Computes and network nodes hold their agents at install, as controllers hold theirs.
        held = _resources(catalogs["cl1-compute-1.example.com"])[("File", "/usr/sbin/policy-rc.d")]["parameters"]["content"]
        assert "nova-compute" in held and "nova-compute.service" in held
        assert not [title for kind, title in other if kind == "Exec" and ("schema" in title or "sync" in title)]


def test_swift_catalogs(store, tmp_path):
    """Swift through the API VIP: the controllers' HAProxy in front of the proxies, Swift in Keystone's catalog (on
    the first master), Glance storing in Swift; a store's data disks formatted and mounted as its devices, or kept
    as folders when the store is a container (the cloud lab)."""
    controller, proxy, swiftstore = cluster_with(store, ["controller", "swiftproxy", "swiftstore"])
    compiled = {h: compile_catalog(tmp_path, store.root, h, {"virtual": "physical"}) for h in (controller, proxy, swiftstore)}
    compiled["container"] = compile_catalog(tmp_path, store.root, swiftstore, {"virtual": "systemd_nspawn"})
    failed = [(h, errors[:2]) for h, code, errors, ok, _ in compiled.values() if code != 0 or errors or not ok]
    assert not failed, failed
    ctl, prx, sto, box = (_resources(compiled[h][4]) for h in (controller, proxy, swiftstore, "container"))
    proxy_ip = refresh.show(store, proxy)["classes"]["oci::swiftproxy"]["machine_ip"]

    assert ctl[("Haproxy::Listen", "swift")]["parameters"]["bind"] == {"203.0.113.2:8080": ["ssl", "crt", "/etc/haproxy/oci-api.pem"]}
    members = ctl[("Haproxy::Balancermember", "swift-proxies")]["parameters"]
    assert (members["server_names"], members["ipaddresses"], members["ports"]) == ([proxy], [proxy_ip], "8080")
    endpoint = ctl[("Keystone_endpoint", "RegionOne/swift::object-store")]["parameters"]
    assert endpoint["public_url"] == "https://cl1-api.example.com:8080/v1/AUTH_%(tenant_id)s"
    assert ("Keystone_endpoint", "RegionOne/swift_s3::s3") not in ctl  # no S3 middleware on the proxies
    assert ctl[("Glance_api_config", "default/swift_store_cacert")]["parameters"]["value"] == "/etc/ssl/oci/ca-chain.pem"
    assert ctl[("Glance_api_config", "DEFAULT/enabled_backends")]["parameters"]["value"] == "default:swift"

    assert prx[("Swift_proxy_config", "DEFAULT/bind_ip")]["parameters"]["value"] == proxy_ip
    assert prx[("Swift_proxy_config", "filter:cache/memcache_servers")]["parameters"]["value"] == f"{proxy_ip}:11211"
    assert ("Service", "memcached") in prx

    # Ports as the rings have them (lib/oci/swiftring.py); the object server takes each disk's port from the ring.
    assert sto[("Swift_object_config", "DEFAULT/servers_per_port")]["parameters"]["value"] == 1
    assert {sto[(f"Swift_{t}_config", "DEFAULT/bind_port")]["parameters"]["value"] for t in ("account", "container")} == {"6002", "6001"}
    for disk in ("vdb", "vdc"):  # the disks its install leaves alone
        assert sto[("Exec", f"oci-swift-mkfs-{disk}")]["parameters"]["command"] == f"mkfs.xfs -L {disk} /dev/{disk}"
        assert sto[("Exec", f"oci-swift-mkfs-{disk}")]["parameters"]["unless"] == f"blkid -p /dev/{disk}"
        assert sto[("File_line", f"oci-swift-fstab-{disk}")]["parameters"]["line"].startswith(f"LABEL={disk} /srv/node/{disk} xfs ")
        assert box[("File", f"/srv/node/{disk}")]["parameters"]["owner"] == "swift"
    assert ("Exec", "oci-swift-mkfs-vda") not in sto
    assert not [title for kind, title in box if kind == "Exec" and title.startswith("oci-swift-")]
    assert sto[("Swift_object_config", "DEFAULT/mount_check")]["parameters"]["value"] is True
    assert box[("Swift_object_config", "DEFAULT/mount_check")]["parameters"]["value"] is False


def test_settings_reach_the_catalogs(store, tmp_path):
    """machine-set and cluster-set values in the compiled catalogs: nova.conf's allocation ratio and reserved
    disk, the CPU model with KVM (and not with qemu), nested virtualisation, the provider network's name on the
    agents and the server, and a Swift store serving only some rings."""
    controller, compute, network, swiftstore = cluster_with(store, ["controller", "compute", "network", "swiftstore"])
    machines.set_(
        store,
        "H01",
        {
            "disk_allocation_ratio": 2.0,
            "nova_reserved_host_disk_mb": 20480,
            "cpu_mode": "custom",
            "cpu_model": "Haswell-noTSX",
            "nested_virt": "yes",
            "neutron_external_network_name": "provider",
        },
        [],
    )
    machines.set_(store, "H02", {"neutron_external_network_name": "provider2"}, [])
    machines.set_(store, "H03", {"swift_store_account": False, "swift_store_container": False}, [])
    clusters.set_(store, "cl1", {"cpu_model_extra_flags": "pcid,-ssbd"}, [])
    compiled = {h: compile_catalog(tmp_path, store.root, h) for h in (controller, compute, network, swiftstore)}
    failed = [(h, errors[:2]) for h, code, errors, ok, _ in compiled.values() if code != 0 or errors or not ok]
    assert not failed, failed
    ctl, cmp, net, sto = (_resources(compiled[h][4]) for h in (controller, compute, network, swiftstore))

    def value(resources, kind, title):
        return resources[(kind, title)]["parameters"]["value"]

    assert value(cmp, "Nova_config", "DEFAULT/disk_allocation_ratio") == 2.0
    assert value(cmp, "Nova_config", "DEFAULT/reserved_host_disk_mb") == 20480
    assert value(cmp, "Nova_config", "libvirt/cpu_mode") == "custom"
    assert value(cmp, "Nova_config", "libvirt/cpu_models") == "Haswell-noTSX"
    assert value(cmp, "Nova_config", "libvirt/cpu_model_extra_flags") == "pcid,-ssbd"
    assert "nested=1" in cmp[("File", "/etc/modprobe.d/oci-nested-virt.conf")]["parameters"]["content"]
    assert value(cmp, "Neutron_agent_ovs", "ovs/bridge_mappings") == "provider:br-ex"
    assert value(net, "Neutron_agent_ovs", "ovs/bridge_mappings") == "provider2:br-ex"
    assert value(ctl, "Neutron_plugin_ml2", "ml2_type_flat/flat_networks") == "provider,provider2"
    assert ("Swift::Storage::Server", "6200") in sto
    assert ("Swift::Storage::Server", "6002") not in sto and ("Swift::Storage::Server", "6001") not in sto

    clusters.set_(store, "cl1", {"virt_type": "qemu"}, [])  # with qemu, libvirt's own CPU: the module's default
    _, code, errors, ok, output = compile_catalog(tmp_path, store.root, compute)
    assert code == 0 and not errors and ok, errors
    assert value(_resources(output), "Nova_config", "libvirt/cpu_mode") == "none"
