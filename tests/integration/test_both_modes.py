"""The same ocicli scenario in local mode and through the HTTP API: same output, same exit codes."""

from __future__ import annotations

import os
import subprocess
from ipaddress import IPv4Address
from pathlib import Path

from conftest import NOW, REPO, report_body
from oci.report import v1
from oci.service import reports, tokens
from oci.store import Store

SCENARIO = [
    "machine-list",
    "swift-region-create datacenter-1",
    "swift-region-create datacenter-1",  # already exists
    "location-create dc1-zone1 datacenter-1",
    "location-create public datacenter-1",
    "location-create nowhere no-such-region",
    "network-create dc1-net1 192.168.101.0 24 dc1-zone1 no",
    "network-create pubnet1 203.0.113.0 28 public yes",
    "network-create bad 192.168.101.7 24 dc1-zone1 no",
    "network-create overlap 192.168.0.0 16 dc1-zone1 no",
    "cluster-create swift01 example.com",
    "cluster-create ../etc example.com",
    "cluster-check swift01",
    "network-add dc1-net1 swift01 all eth0",
    "network-add pubnet1 swift01 all eth0 eth1",
    "machine-add C1 swift01 controller dc1-zone1",
    "machine-add C1 swift01 controller dc1-zone1",
    "machine-add --fixed-ip 192.168.101.50 C2 swift01 swiftstore dc1-zone1",
    "machine-add C3 swift01 nosuchrole dc1-zone1",
    "machine-add ../x swift01 compute dc1-zone1",
    "machine-add --dry-run C3 swift01 compute dc1-zone1",
    "machine-show C1",
    "enc-show swift01-controller-1.example.com",
    "enc-show nope.example.com",
    "machine-show swift01-controller-1",
    "machine-show ../x",
    "machine-show NOPE",
    "machine-set C1 --notes rack-12 --use-ceph-if-available yes",
    "machine-set C1 --swift-part-power 3",
    "machine-set C1 --hostname api1.example.com",
    "machine-ip-list C1",
    "machine-ip-add C1 dc1-net1 192.168.101.60",
    "machine-ip-remove C1 192.168.101.60",
    "machine-ip-remove C1 192.168.101.50",
    "cluster-set swift01 --region-name Paris --swift-part-power 12",
    "cluster-set swift01 --first-master C2",
    "cluster-set swift01 --region-name Lyon --dry-run",
    "cluster-show swift01",
    "cluster-show-machines swift01",
    "cluster-show-networks swift01",
    "cluster-show-ips swift01",
    "cluster-check swift01",
    "network-list",
    "network-show dc1-net1",
    "network-set dc1-net1 --mtu 9000 --vlan 101",
    "network-remove dc1-net1",
    "network-delete pubnet1",
    "cluster-delete swift01",
    "location-delete dc1-zone1",
    "swift-region-delete datacenter-1",
    "role-create custom1",
    "role-create vm-net",
    "role-list",
    "role-delete compute",
    "role-delete custom1",
    "machine-remove C2",
    "machine-destroy C2",
    "machine-destroy C3",
    "machine-list -a",
    "location-list",
    "swift-region-list",
    "cluster-list",
]


def seed(root: Path) -> None:
    store = Store(root)
    for i, serial in enumerate(("C1", "C2", "C3")):
        reports.record(store, v1.parse(report_body(serial)), IPv4Address(f"192.168.100.{20 + i}"), NOW)


def run(env: dict[str, str], command: str, as_json: bool) -> tuple[int, str, str]:
    argv = [str(REPO / "bin" / "ocicli"), *(["--json"] if as_json else []), *command.split()]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def test_same_scenario_both_ways(server, tmp_path):
    port, server_env, server_state = server
    seed(server_state)
    token = tokens.create(Store(server_state), "tester", NOW)
    local_state = tmp_path / "local"
    seed(local_state)
    base = {k: v for k, v in os.environ.items() if not k.startswith("OCI_")}
    local = {**base, "OCI_STATE_DIR": str(local_state)}
    remote = {**base, "OCI_API_URL": f"http://127.0.0.1:{port}", "OCI_API_TOKEN": token, "OCI_STATE_DIR": str(tmp_path / "unused")}
    codes = set()
    for index, command in enumerate(SCENARIO):
        as_json = index % 2 == 1  # tables and JSON, alternately
        here, there = run(local, command, as_json), run(remote, command, as_json)
        assert here == there, f"{command!r} differs:\nlocal: {here}\nhttp:  {there}"
        codes.add(here[0])
    assert codes == {0, 1, 2, 3}  # successes, refusals, usage errors and cluster-check problems were all compared
    assert not (tmp_path / "unused").exists()


def test_token_from_a_file_and_refusals(server, tmp_path):
    port, _, server_state = server
    token = tokens.create(Store(server_state), "filed", NOW)
    (tmp_path / "token").write_text(token + "\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith("OCI_")}
    url = f"http://127.0.0.1:{port}"
    done = subprocess.run([str(REPO / "bin" / "ocicli"), "--api-url", url, "--token-file", str(tmp_path / "token"), "cluster-list"],
                          env=base, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [str(REPO / "bin" / "ocicli"), "--api-url", url, "cluster-list"], env=base, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.startswith("ocicli: error: authentication required")
    done = subprocess.run([str(REPO / "bin" / "ocicli"), "--api-url", "http://127.0.0.1:9", "cluster-list"], env=base, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1 and done.stderr.startswith("ocicli: error: cannot reach the API at http://127.0.0.1:9")
