"""The cloud lab's plan (lib/oci/cloudlab/plan.py): the cluster an operator describes, and what a container takes."""

from __future__ import annotations

from ipaddress import IPv4Address

from test_cli import ocicli

from oci.cloudlab import plan
from oci.install import plan as install_plan
from oci.pocvms import network


def test_the_nodes_have_distinct_names_namespaces_links_and_macs():
    for attribute in ("name", "serial", "namespace", "lab_link", "mac"):
        values = [getattr(node, attribute) for node in plan.NODES]
        assert len(set(values)) == len(values), attribute
    assert [n.role for n in plan.NODES] == ["controller", "compute", "swiftproxy", "swiftstore"]
    assert all(len(node.lab_link) <= 15 and network.NAMESPACE_NAME.fullmatch(node.namespace) for node in plan.NODES)


def test_the_operator_describes_a_linuxbridge_qemu_cluster_with_a_public_network_for_the_vip():
    commands = plan.operator_commands()
    settings = next(c for c in commands if c[0] == "cluster-set")
    assert settings[:6] == ("cluster-set", plan.CLUSTER, "--virt-type", "qemu", "--neutron-l2-agent", "linuxbridge")
    assert settings[6:] == ("--swift-replicas", "1", "--swift-part-power", "8")  # one store with one disk
    public = next(c for c in commands if c[:2] == ("network-create", "pub"))
    assert public[-1] == "yes" and IPv4Address(public[2]) == plan.PUBLIC.network_address
    # The master's addresses are out of the pools the cluster allocates from.
    mgmt_pool = next(c for c in commands if c[:2] == ("network-set", "mgmt"))
    pub_pool = next(c for c in commands if c[:2] == ("network-set", "pub"))
    assert IPv4Address(mgmt_pool[3]) > plan.MANAGEMENT.network_address + 1
    assert IPv4Address(pub_pool[3]) > plan.PUBLIC_MASTER
    # Every network is attached before the settings that describe the cluster's hosts.
    names = [c[0] for c in commands]
    assert names.index("cluster-create") < names.index("network-add") < names.index("cluster-set")


def test_a_container_takes_the_install_plans_packages_but_the_kernel_and_the_boot_loader():
    packages = plan.container_packages((*install_plan.BASE_PACKAGES, "grub-pc", "mdadm"))
    assert install_plan.KERNEL_PACKAGE not in packages and "grub-pc" not in packages and "mdadm" not in packages
    assert {"puppet", "ifupdown", "openssh-server", "curl", "systemd-sysv", "dbus"} <= set(packages)
    assert list(packages) == sorted(set(packages))


def test_only_the_compute_container_tells_libvirt_to_make_no_cgroups():
    files = plan.container_files("compute")
    assert list(files) == ["etc/libvirt/qemu.conf"]
    settings = [line for line in files["etc/libvirt/qemu.conf"].splitlines() if line and not line.startswith("#")]
    assert settings == ["cgroup_controllers = [ ]"]
    assert plan.container_files("controller") == {}


def test_the_operator_commands_are_accepted_by_ocicli(tmp_path):
    """As typed, each command is one ocicli accepts: the lab would stop at the first it refused."""
    for command in plan.operator_commands():
        done = ocicli(tmp_path / "state", *command)
        assert done.returncode == 0, (command, done.stderr)
