"""The rendered ifupdown files against the real ifupdown: every golden tree parses with ``ifquery``, and the
trees whose kinds of devices the kernel offers are brought up with ``ifup`` in a network namespace of
their own, with veth pairs standing for the NICs; ``ip -j`` then shows each address, MTU, bond member and
bridge port as rendered. Only namespaces this test creates are touched (and deleted, even on failure).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO
from oci.run import CommandError, run

GOLDEN = REPO / "tests" / "data" / "golden" / "netconf"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
NICS = ("eno1", "eno2", "ens1f0", "ens1f1")  # the NICs of tests/unit/test_netconf.py, as veths
# ifupdown makes VLANs itself; bonds and bridges come from the hooks of these packages.
HOOKS = {"bond": Path("/etc/network/if-pre-up.d/ifenslave"), "bridge": Path("/etc/network/if-pre-up.d/bridge")}
PROBES = {"bond": ("type", "bond"), "bridge": ("type", "bridge"), "vlan": ("link", "probe-v", "type", "vlan", "id", "5")}

pytestmark = pytest.mark.skipif(shutil.which("ifquery") is None, reason="ifupdown is not installed (make deps installs it)")


def interfaces(case: str) -> str:
    return str(GOLDEN / case / "etc" / "network" / "interfaces")


def stanzas(case: str) -> set[str]:
    text = (GOLDEN / case / "etc" / "network" / "interfaces.d" / "oci").read_text()
    return set(re.findall(r"^iface (\S+) inet", text, flags=re.MULTILINE)) | {"lo"}


def query(case: str, *args: str) -> str:
    return run(["ifquery", "-i", interfaces(case), *args], timeout=10).stdout


def options(case: str, iface: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in query(case, iface).splitlines() if ": " in line)


def listed(case: str) -> set[str]:
    """Interfaces ifup brings up: those marked auto, and those an OVS bridge brings up (allow-ovs, allow-<bridge>)."""
    names = set(query(case, "--list", "-a").split())
    ovs = set(query(case, "--list", "--allow", "ovs").split())
    for bridge in ovs:
        names |= set(query(case, "--list", "--allow", bridge).split())
    return names | ovs


@pytest.mark.parametrize("case", CASES)
def test_ifquery_parses_every_golden_tree(case):
    assert listed(case) == stanzas(case)  # the source-directory line is followed; every stanza is reachable
    for iface in sorted(stanzas(case) - {"lo"}):
        query(case, iface)  # exit code 0: the stanza parses


def test_ifquery_reads_the_rendered_options():
    assert options("bond-vlan-bridge", "br-mgmt") | options("bond-vlan-bridge", "bond0") == {
        "address": "192.168.10.2",
        "netmask": "255.255.255.0",
        "broadcast": "192.168.10.255",
        "gateway": "192.168.10.1",
        "dns-nameservers": "9.9.9.9 8.8.8.8",
        "dns-search": "example.com",
        "mtu": "9000",
        "bridge_ports": "bond0.100",
        "bridge_stp": "off",
        "bridge_fd": "0",
        "bridge_maxwait": "0",
        "bond-slaves": "ens1f0 ens1f1",
        "bond-mode": "802.3ad",
        "bond-miimon": "100",
        "bond-lacp-rate": "fast",
        "bond-xmit-hash-policy": "layer3+4",
    }


# ----------------------------------------------------------------------------- applied in a namespace


def ip(namespace: str, *args: str) -> str:
    return run(["ip", "-n", namespace, *args], timeout=10).stdout


@pytest.fixture
def namespace() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("ifup") is None:
        pytest.skip("needs root, iproute2 and ifupdown")
    name = f"oci-nc-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        run(["ip", "netns", "add", name], timeout=10)
    except CommandError as exc:
        pytest.skip(f"network namespaces are not available: {exc.message.splitlines()[0]}")
    try:
        yield name
    finally:
        run(["ip", "netns", "del", name], timeout=10, accept=(0, 1))  # its veths, bonds and bridges go with it


def missing_kinds(namespace: str, case: str) -> list[str]:
    """The kinds of links the case needs that this kernel (or this host's ifupdown hooks) cannot make."""
    text = (GOLDEN / case / "etc" / "network" / "interfaces.d" / "oci").read_text()
    missing = []
    if "ovs_type" in text:
        missing.append("Open vSwitch (not tested here)")
    needs = {"bond": "bond-slaves" in text, "bridge": "bridge_ports" in text, "vlan": "vlan-raw-device" in text}
    ip(namespace, "link", "add", "name", "probe-v", "type", "veth", "peer", "name", "probe-vp")  # a VLAN needs an Ethernet link
    for kind in (k for k, needed in needs.items() if needed):
        try:
            ip(namespace, "link", "add", "name", f"probe-{kind}", *PROBES[kind])
            ip(namespace, "link", "del", f"probe-{kind}")
        except CommandError:
            missing.append(f"{kind} links (kernel module not available)")
            continue
        if kind in HOOKS and not HOOKS[kind].exists():
            missing.append(f"ifupdown's {kind} hook {HOOKS[kind]} (package {'ifenslave' if kind == 'bond' else 'bridge-utils'})")
    ip(namespace, "link", "del", "probe-v")
    return missing


@pytest.mark.parametrize("case", ["single-nic", "mtu", "bridge", "bond-vlan-bridge", "two-networks-one-bond"])
def test_ifup_brings_the_rendered_devices_up(namespace, tmp_path, case):
    missing = missing_kinds(namespace, case)
    if missing:
        pytest.skip(f"{case} needs {', '.join(missing)}")
    for nic in NICS:  # the peer stays in the namespace, up, so the NIC has a carrier
        ip(namespace, "link", "add", "name", nic, "type", "veth", "peer", "name", f"{nic}-peer")
        ip(namespace, "link", "set", f"{nic}-peer", "up")
    state = tmp_path / "ifstate"
    state.mkdir()
    run(["ip", "netns", "exec", namespace, "ifup", "-i", interfaces(case), "--state-dir", str(state), "-a"], timeout=60)

    links = {link["ifname"]: link for link in json.loads(ip(namespace, "-j", "addr", "show"))}
    for iface in sorted(stanzas(case) - {"lo"}):
        wanted = options(case, iface)
        link = links.get(iface)
        assert link is not None, f"{iface} was not created"
        assert link["operstate"] in ("UP", "UNKNOWN"), f"{iface} is {link['operstate']}"
        if "address" in wanted:
            addresses = {(a["local"], str(a["prefixlen"])) for a in link["addr_info"] if a["family"] == "inet"}
            prefix = str(sum(bin(int(part)).count("1") for part in wanted["netmask"].split(".")))
            assert (wanted["address"], prefix) in addresses, f"{iface}: {addresses}"
        if "mtu" in wanted:
            assert link["mtu"] == int(wanted["mtu"]), iface
        for member in wanted.get("bond-slaves", "").split() + wanted.get("bridge_ports", "").split():
            assert links[member].get("master") == iface, f"{member} is not in {iface}"
    routes = json.loads(ip(namespace, "-j", "route", "show", "default"))
    gateways = [options(case, i)["gateway"] for i in stanzas(case) - {"lo"} if "gateway" in options(case, i)]
    assert [r["gateway"] for r in routes] == gateways
