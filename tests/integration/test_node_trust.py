"""Node trust over real HTTP (oci-api on loopback, requests from several 127.x sources): the attacks of
issue #14 are refused, and the real agent, renumbered, proves itself with the host key OCI certified
(ssh-keygen -Y sign on the node, checked in the master)."""

from __future__ import annotations

import json
import subprocess

from conftest import REPO, post, report_body
from oci.pki import ssh
from oci.service import clusters, machines, networks, topology
from oci.store import Store

ATTACKER = "127.0.0.5"


def post_json(port, path, body, source):
    status, payload = post(port, path, json.dumps(body).encode(), source=source)
    return status, json.loads(payload)


def state_files(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] not in ("conflicts", "locks", "cache")}  # fmt: skip


def test_the_attacks_of_issue_14_are_refused_over_http(server, tmp_path):
    port, env, state = server
    store = Store(state)
    topology.region_create(store, "r1")
    topology.location_create(store, "dc1", "r1")
    networks.create(store, "mgmt", "127.50.0.0", "24", "dc1", "no")  # on loopback, so the installed node can send from it
    clusters.create(store, "cla", "example.com")
    networks.add(store, "mgmt", "cla", "all", "eth0")
    assert post_json(port, "/api/v1/report", report_body("M1"), "127.0.0.20")[0] == 200
    machines.add(store, "M1", "cla", "controller", "dc1")
    for value in ("installing", "installed"):
        assert post_json(port, "/api/v1/status", {"version": 1, "serial": "M1", "status": value}, "127.50.0.2")[0] == 200
    assert post_json(port, "/api/v1/report", report_body("M2"), "127.0.0.21")[0] == 200
    before = state_files(state)

    code, reply = post_json(port, "/api/v1/report", report_body("M1", nics=[{"name": "eth9", "mac": "52:54:00:66:66:66"}]), ATTACKER)
    assert (code, reply["message"]) == (409, f"{ATTACKER} is not an address of machine M1: report refused and recorded")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    public = (tmp_path / "key.pub").read_text().strip()
    code, reply = post_json(port, "/api/v1/ssh/host-key", {"serial": "M1", "public_key": public}, ATTACKER)
    assert code == 409 and reply["data"] is None
    code, reply = post_json(port, "/api/v1/status", {"version": 1, "serial": "M2", "status": "installed"}, ATTACKER)
    assert code == 409
    assert state_files(state) == before

    shown = subprocess.run([str(REPO / "bin" / "ocicli"), "--json", "machine-conflicts", "M1"], env=env, capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    assert [(c["address"], c["route"]) for c in json.loads(shown)] == [(ATTACKER, "report"), (ATTACKER, "host-key")]
    # The machine itself, at its own address, gets its certificate.
    code, reply = post_json(port, "/api/v1/ssh/host-key", {"serial": "M1", "public_key": public}, "127.50.0.2")
    assert code == 200, reply
    assert ssh.describe(reply["data"]["certificate"])["principals"] == ["cla-controller-1.example.com", "cla-controller-1", "127.50.0.2"]


def test_a_renumbered_agent_proves_itself_with_its_certified_host_key(server, tmp_path):
    port, env, state = server
    printed = subprocess.run([str(REPO / "bin" / "oci-discover"), "--print"], capture_output=True, text=True, timeout=120, check=True)
    body = json.loads(printed.stdout)
    serial = body["serial"]
    # The node was known at 127.0.0.9 and had its host key certified there.
    assert post_json(port, "/api/v1/report", body, "127.0.0.9")[0] == 200
    key = tmp_path / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = key.with_name(key.name + ".pub").read_text().strip()
    code, reply = post_json(port, "/api/v1/ssh/host-key", {"serial": serial, "public_key": public}, "127.0.0.9")
    assert code == 200, reply
    key.with_name(key.name + "-cert.pub").write_text(reply["data"]["certificate"] + "\n")

    # Now it speaks from 127.0.0.1: without its key it is refused, with it it is itself.
    server_option = ["--server", f"127.0.0.1:{port}"]
    status = [str(REPO / "bin" / "oci-report-status"), *server_option, "--serial", serial]
    refused = subprocess.run([*status, "--host-key", str(tmp_path / "none"), "installing"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and f"127.0.0.1 is not an address of machine {serial}" in refused.stderr
    done = subprocess.run([*status, "--host-key", str(key), "installing"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([str(REPO / "bin" / "oci-discover"), "--once", *server_option, "--lock", str(tmp_path / "lock"),
                           "--host-key", str(key)], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = json.loads(subprocess.run([str(REPO / "bin" / "ocicli"), "--json", "machine-show", serial], env=env, capture_output=True,
                                      text=True, check=True).stdout)  # fmt: skip
    assert shown["live_ip"] == "127.0.0.1" and shown["status"] == "installing"
    assert shown["host_key"] == " ".join(public.split()[:2])
    assert [c["address"] for c in shown["conflicts"]] == ["127.0.0.1"]  # the unsigned attempt, recorded
