"""The PoC lab's network: one namespace holding the provisioning bridge, a tap per VM NIC, the BMCs'
addresses, and a veth pair to the host, the lab's only way out, for the package cache alone.

``up`` builds it and undoes what it did if a step fails; ``down`` kills every process left in the namespace and
removes it with the host's end of the veth: safe to run again, and on a lab ``up`` left half made.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import time
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

from oci.errors import InvalidInput, InvalidState
from oci.pocvms import plan
from oci.run import CommandError, run

TIMEOUT = 60.0  # for one ip or nft command: a guard, never a figure
# The veth pair to the host: a /30 of its own, out of the lab's networks, which are not routed from the host.
HOST_LINK_NET = IPv4Network("10.254.255.252/30")
CACHE_PORT = 3142  # where installs expect the master's package cache


@dataclass(frozen=True, slots=True)
class Network:
    """Names of one lab's network (the tests make their own, so a PoC running beside them is never touched)."""

    namespace: str = plan.NAMESPACE
    host_link: str = "vethocipoc"  # "veth" first: the discovery agent skips such names as a machine's NIC
    lab_link: str = "cache0"
    link_net: IPv4Network = HOST_LINK_NET

    @property
    def host_end(self) -> IPv4Address:
        return next(self.link_net.hosts())

    @property
    def lab_end(self) -> IPv4Address:
        return list(self.link_net.hosts())[1]

    def inside(self, *argv: str) -> list[str]:
        """``argv`` run in the lab's namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]


NAMESPACE_NAME = re.compile(r"[a-z][a-z0-9-]{0,14}")


def named(namespace: str) -> Network:
    """The network of a lab in ``namespace``: the PoC's default, or another one beside it (a test's), whose veth
    name and /30 (in 10.254.254.0/24) follow from its name."""
    if not NAMESPACE_NAME.fullmatch(namespace):
        raise InvalidInput(f"--namespace {namespace[:40]!r}: lower-case letters, digits and '-', 15 at most, a letter first")
    if namespace == plan.NAMESPACE:
        return Network()
    digest = hashlib.sha256(namespace.encode()).digest()
    link_net = IPv4Network((int(IPv4Address("10.254.254.0")) + 4 * (digest[0] % 64), 30))
    return Network(namespace, f"vethoci{digest[1:4].hex()}", link_net=link_net)


def _ip(*args: str) -> None:
    run(["ip", *args], timeout=TIMEOUT)


def exists(net: Network) -> bool:
    return os.path.exists(f"/run/netns/{net.namespace}")


def up(net: Network, lab: plan.Lab, cache_port: int) -> None:
    """The namespace, its bridge with the master's addresses on both networks and each BMC's, the VMs' taps,
    and the veth to the host with a DNAT of ``MASTER:3142`` to the package cache on the host's end at
    ``cache_port``. On failure, what was made is removed again."""
    used = [IPv4Network(f"{a['local']}/{a['prefixlen']}", strict=False)
            for link in json.loads(run(["ip", "-j", "-4", "addr"], timeout=TIMEOUT).stdout or "[]") for a in link["addr_info"]]  # fmt: skip
    if any(net.link_net.overlaps(other) for other in used):
        raise InvalidState(f"{net.link_net}, the lab's link to the host, is in use on this host (another lab?)")
    _ip("netns", "add", net.namespace)
    try:
        ns = ("-n", net.namespace)
        _ip(*ns, "link", "add", plan.BRIDGE, "type", "bridge")
        addresses = [f"{plan.MASTER}/{plan.PROVISIONING.prefixlen}", f"{plan.BMC_MASTER}/{plan.BMC_NETWORK.prefixlen}"]
        addresses += [f"{vm.bmc_listen}/{plan.BMC_NETWORK.prefixlen}" for vm in lab.vms]
        for address in addresses:
            _ip(*ns, "addr", "add", address, "dev", plan.BRIDGE)
        for tap in lab.taps:
            _ip(*ns, "tuntap", "add", tap, "mode", "tap")
            _ip(*ns, "link", "set", tap, "master", plan.BRIDGE)
        for link in ("lo", plan.BRIDGE, *lab.taps):
            _ip(*ns, "link", "set", link, "up")
        _ip("link", "add", net.host_link, "type", "veth", "peer", "name", net.lab_link, "netns", net.namespace)
        _ip("addr", "add", f"{net.host_end}/{net.link_net.prefixlen}", "dev", net.host_link)
        _ip("link", "set", net.host_link, "up")
        _ip(*ns, "addr", "add", f"{net.lab_end}/{net.link_net.prefixlen}", "dev", net.lab_link)
        _ip(*ns, "link", "set", net.lab_link, "up")
        run(net.inside("sysctl", "-q", "-w", "net.ipv4.ip_forward=1"), timeout=TIMEOUT)
        run(net.inside("nft", "-f", "-"), input_text=nat_rules(net, cache_port), timeout=TIMEOUT)
    except BaseException:
        down(net)
        raise


def nat_rules(net: Network, cache_port: int) -> str:
    """The namespace's only rules: guests ask the master's address for the package cache; the namespace forwards
    it to the host's end and masquerades, so the host needs no route back to the lab."""
    return (
        "table ip oci_poc {\n"
        "  chain prerouting { type nat hook prerouting priority dstnat;\n"
        f"    ip daddr {plan.MASTER} tcp dport {CACHE_PORT} dnat to {net.host_end}:{cache_port}\n  }}\n"
        "  chain postrouting { type nat hook postrouting priority srcnat;\n"
        f'    oifname "{net.lab_link}" masquerade\n  }}\n'
        "  chain output { type nat hook output priority -100;\n  }\n"
        "}\n"
    )


def forward_bmc(net: Network, address: str, simulator: IPv4Address) -> None:
    """The master (in the namespace) reaches the BMC numbered ``address`` at its simulator's own address: a real
    BMC answers at the address its LAN settings got; ipmi_sim keeps listening where it started."""
    rule = f"ip daddr {IPv4Address(address)} udp dport 623 dnat to {simulator}:623"
    run(net.inside("nft", "add", "rule", "ip", "oci_poc", "output", *rule.split()), timeout=TIMEOUT)


def cache_from_inside(net: Network, cache_port: int) -> None:
    """Commands run in the namespace itself (an apt in a chroot there) reach the package cache at the master's
    address too, as the guests do."""
    rule = f"ip daddr {plan.MASTER} tcp dport {CACHE_PORT} dnat to {net.host_end}:{cache_port}"
    run(net.inside("nft", "add", "rule", "ip", "oci_poc", "output", *rule.split()), timeout=TIMEOUT)


def pids(net: Network) -> list[int]:
    """The processes running in the namespace (qemu, the BMCs, the master's daemons)."""
    if not exists(net):
        return []
    try:
        done = run(["ip", "netns", "pids", net.namespace], timeout=TIMEOUT)
    except CommandError:
        return []
    return [int(word) for word in done.stdout.split() if word.isdigit()]


def down(net: Network, grace: float = 20.0) -> list[str]:
    """Kill what runs in the namespace (TERM, then KILL after ``grace`` seconds), delete it and the host's end of
    the veth. What it removed, for the operator; nothing when there was no lab."""
    removed = stop_namespace(net.namespace, grace)
    if exists(net):
        _ip("netns", "del", net.namespace)  # the taps, the bridge and the lab's end of the veth go with it
        removed.append(f"namespace {net.namespace}")
    if _link_exists(net.host_link):
        # Deleting the namespace deletes its veth end, and with it the host's end, a moment later.
        run(["ip", "link", "del", net.host_link], timeout=TIMEOUT, accept=(0, 1, 2))  # 2: gone meanwhile
        if _link_exists(net.host_link):
            raise InvalidState(f"link {net.host_link} cannot be deleted")
        removed.append(f"link {net.host_link}")
    return removed


def stop_namespace(namespace: str, grace: float = 20.0) -> list[str]:
    """Kill what runs in ``namespace`` (TERM, then KILL after ``grace`` seconds); what it did, for the operator."""
    running = pids(Network(namespace))
    if not running:
        return []
    killed = stop(running, grace)
    return [f"{len(running)} process(es) of namespace {namespace} stopped ({killed} killed)"]


def stop(running: list[int], grace: float = 20.0) -> int:
    """TERM ``running``, and KILL those still alive after ``grace`` seconds; returns once they are all gone
    (what they were writing is then written), with how many had to be killed."""
    for pid in running:
        _signal(pid, signal.SIGTERM)
    left, give_up = running, time.monotonic() + grace
    while (left := [pid for pid in left if alive(pid)]) and time.monotonic() < give_up:
        time.sleep(0.2)  # processes exiting after a signal: nothing tells when, so look again
    for pid in left:
        _signal(pid, signal.SIGKILL)
    killed, give_up = left, time.monotonic() + grace
    while (left := [pid for pid in left if alive(pid)]) and time.monotonic() < give_up:
        time.sleep(0.2)
    return len(killed)


def _link_exists(name: str) -> bool:
    try:
        return bool(json.loads(run(["ip", "-j", "link", "show", "dev", name], timeout=TIMEOUT).stdout or "[]"))
    except CommandError:
        return False


def _signal(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


def alive(pid: int) -> bool:
    """Alive and not a zombie: an orphan may wait long for a reaper here (PID 1 is no init)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
