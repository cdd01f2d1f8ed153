"""oci-poc vms, the lab's plumbing with the real tools: the namespace set up and torn down (ip, nft), and a
VM's BMC (ipmi_sim with the rendered configuration and hook) powering a real qemu on and off over IPMI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from ipaddress import IPv4Address, IPv4Network

import pytest

from oci.pocvms import network, plan
from oci.run import CommandError


def ip_json(*argv: str) -> list[dict]:
    return json.loads(subprocess.run(["ip", "-j", *argv], check=True, capture_output=True, text=True, timeout=30).stdout or "[]")


def free_link_net() -> IPv4Network:
    """A /30 no interface of this machine uses, apart from the PoC's own (a PoC may run beside the tests)."""
    taken = [IPv4Network(f"{a['local']}/{a['prefixlen']}", strict=False) for link in ip_json("-4", "addr") for a in link["addr_info"]]
    while True:
        candidate = IPv4Network((int(IPv4Address("10.254.254.0")) + 4 * (uuid.uuid4().int % 64), 30))
        if not any(candidate.overlaps(net) for net in taken):
            return candidate


@pytest.fixture
def net():
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is not installed: run make deps")
    tag = uuid.uuid4().hex[:6]
    names = network.Network(namespace=f"oci-pt-{tag}", host_link=f"vethopt{tag}", link_net=free_link_net())
    yield names
    network.down(names)


def test_up_builds_the_lab_and_down_leaves_nothing(net):
    lab = plan.plan(2)
    network.up(net, lab, cache_port=3142)
    inside = ("-n", net.namespace)
    links = {link["ifname"]: link for link in ip_json(*inside, "link")}
    assert {"vm1n0", "vm2n0", "vm2n1"} <= set(links)
    assert all(links[tap].get("master") == plan.BRIDGE and "UP" in links[tap]["flags"] for tap in ("vm1n0", "vm2n0", "vm2n1"))
    bridge = ip_json(*inside, "-4", "addr", "show", "dev", plan.BRIDGE)[0]
    assert {a["local"] for a in bridge["addr_info"]} == {"10.254.0.1", "10.254.1.1", "10.254.1.201", "10.254.1.202"}
    host = ip_json("-4", "addr", "show", "dev", net.host_link)[0]
    assert [a["local"] for a in host["addr_info"]] == [str(net.host_end)]
    rules = subprocess.run(net.inside("nft", "list", "ruleset"), check=True, capture_output=True, text=True).stdout
    assert f"ip daddr 10.254.0.1 tcp dport 3142 dnat to {net.host_end}:3142" in rules

    # Something left running in the lab (a VM, a daemon) is stopped by down.
    sleeper = subprocess.Popen(net.inside("sleep", "600"))
    removed = network.down(net)
    assert sleeper.wait(timeout=30) != 0
    stopped = f"1 process(es) of namespace {net.namespace} stopped (0 killed)"
    # The host's end of the veth goes with the namespace, at once or a moment later (then down deletes it).
    assert removed[:2] == [stopped, f"namespace {net.namespace}"] and set(removed[2:]) <= {f"link {net.host_link}"}
    assert not network.exists(net)
    assert all(link["ifname"] != net.host_link for link in ip_json("link", "show"))
    assert network.down(net) == []  # again: nothing left, nothing to say


def test_a_failed_up_removes_what_it_made(net):
    vm = plan.plan(1).vms[0]
    with pytest.raises(CommandError):
        network.up(net, plan.Lab((vm, vm)), cache_port=3142)  # the second VM's address is the first's: refused
    assert not network.exists(net)
    assert all(link["ifname"] != net.host_link for link in ip_json("link", "show"))
