"""ocicli: golden JSON of every listing, tables, exit codes, one-line errors.

Golden files live in tests/data/golden/cli/<case>.json; to accept a deliberate change of output, run
``OCI_UPDATE_GOLDEN=1 make check`` and review the diff.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess

import pytest

from conftest import REPO, state_files
from oci.cli.main import build_parser, main
from oci.enc import refresh
from oci.model import Cluster, Machine
from oci.service import clusters, machines, networks, topology

GOLDEN = REPO / "tests" / "data" / "golden" / "cli"


@pytest.fixture
def demo(store, discover):
    topology.region_create(store, "datacenter-1")
    for loc in ("dc1-zone1", "public"):
        topology.location_create(store, loc, "datacenter-1")
    networks.create(store, "dc1-net1", "192.168.101.0", "24", "dc1-zone1", "no")
    networks.create(store, "pubnet1", "203.0.113.0", "28", "public", "yes")
    networks.create(store, "spare", "10.20.0.0", "16", "dc1-zone1", "no")
    clusters.create(store, "swift01", "example.com")
    networks.add(store, "dc1-net1", "swift01", "all", "eth0")
    networks.add(store, "pubnet1", "swift01", "all", "eth0", "eth1")
    for i, serial in enumerate(("C1", "C2", "C3")):
        discover(serial, address=f"192.168.100.{20 + i}", nics=[{"name": "eno1", "mac": f"24:6e:96:00:00:0{i}", "speed_mbps": 10000}])
    machines.add(store, "C1", "swift01", "controller", "dc1-zone1")
    machines.add(store, "C2", "swift01", "swiftstore", "dc1-zone1")
    return store


def run(store, capsys, *argv):
    code = main(list(argv), store_factory=lambda: store)
    out, err = capsys.readouterr()
    return code, out, err


LISTINGS = [
    ("machine-list",),
    ("machine-show", "C1"),
    ("machine-ip-list", "C1"),
    ("cluster-list",),
    ("cluster-show", "swift01"),
    ("cluster-show-machines", "swift01"),
    ("cluster-show-networks", "swift01"),
    ("cluster-show-ips", "swift01"),
    ("cluster-check", "swift01"),
    ("network-list",),
    ("network-show", "dc1-net1"),
    ("location-list",),
    ("swift-region-list",),
    ("role-list",),
    ("machine-blk", "C1"),
    ("machine-show-from-hostname", "swift01-controller-1.example.com"),
    ("cluster-rolecounts-list", "swift01"),
    ("profile-list",),
]


@pytest.mark.parametrize("argv", LISTINGS, ids=lambda a: "_".join(a))
def test_json_output_matches_golden(demo, capsys, argv):
    code, out, err = run(demo, capsys, *argv, "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    golden = GOLDEN / ("_".join(argv) + ".json")
    if os.environ.get("OCI_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    assert data == json.loads(golden.read_text())


def test_json_flag_works_before_the_command(demo, capsys):
    code, out, _ = run(demo, capsys, "--json", "cluster-list")
    assert code == 0 and json.loads(out) == [{"domain": "example.com", "name": "swift01"}]


def test_every_listing_command_takes_json():
    parser = build_parser()
    listing = {a[0] for a in LISTINGS}
    commands = parser._subparsers._group_actions[0].choices
    for name in listing:
        assert "--json" in commands[name].format_help()


def test_machine_list_table(demo, capsys):
    code, out, _ = run(demo, capsys, "machine-list")
    lines = out.splitlines()
    assert lines[0].split() == ["serial", "ipaddr", "memory", "status", "puppet", "lastseen", "cluster", "hostname"]
    assert lines[1].split() == [
        "C1",
        "192.168.100.20",
        "8192",
        "live",
        "notrun",
        "2026-11-25T12:00:00Z",
        "swift01",
        "swift01-controller-1.example.com",
    ]
    assert lines[3].split()[-2:] == ["-", "-"]
    code, out, _ = run(demo, capsys, "machine-list", "-a")
    assert "mgmt_ip" in out.splitlines()[0] and "192.168.101.2@dc1-net1" in out


def test_csv_has_the_tables_headers_and_cells_as_oci_42_scripts_read_them(demo, capsys):
    """``ocicli -csv machine-list`` (OCI 42's spelling, before the command) and ``--csv`` after it: the table's
    headers, then one row per machine; empty where the table shows ``-``; quoted only where a value needs it."""
    code, table, _ = run(demo, capsys, "machine-list", "-a")
    for argv in (("-csv", "machine-list", "-a"), ("machine-list", "-a", "--csv")):
        code, out, err = run(demo, capsys, *argv)
        assert (code, err) == (0, "")
        rows = list(csv.DictReader(out.splitlines()))
        assert list(rows[0]) == table.splitlines()[0].split()
        assert [r["serial"] for r in rows] == ["C1", "C2", "C3"]
        assert (rows[0]["hostname"], rows[0]["role"], rows[2]["hostname"], rows[2]["cluster"]) == (
            "swift01-controller-1.example.com", "controller", "", "")  # fmt: skip
    machines.set_(demo, "C1", {"notes": 'rack 12, "left"'}, [])
    code, out, _ = run(demo, capsys, "-csv", "machine-list", "-r")
    assert '"rack 12, ""left"""' in out and next(csv.DictReader(out.splitlines()))["notes"] == 'rack 12, "left"'
    code, out, _ = run(demo, capsys, "-csv", "network-show", "dc1-net1")  # one object: key,value rows
    assert out.startswith("key,value\n") and "\nname,dc1-net1\n" in out


def test_json_and_csv_together_are_a_usage_error(demo, capsys):
    with pytest.raises(SystemExit) as exited:
        run(demo, capsys, "--json", "-csv", "machine-list")
    assert exited.value.code == 2 and "--json and --csv: choose one" in capsys.readouterr().err


def test_rolecounts_set_numbers_the_next_hostname(demo, capsys):
    code, out, _ = run(demo, capsys, "cluster-rolecounts-set", "swift01", "swiftstore", "7")
    assert (code, out) == (0, "swift01: the next swiftstore takes number 8 (or the next free one)\n")
    assert machines.add(demo, "C3", "swift01", "swiftstore", "dc1-zone1")["hostname"] == "swift01-swiftstore-8.example.com"
    code, out, _ = run(demo, capsys, "--json", "cluster-rolecounts-list", "swift01")
    assert {r["role"]: r["count"] for r in json.loads(out)} == {"controller": 1, "swiftstore": 8}
    for argv, error in ((("swift01", "nosuchrole", "3"), "role 'nosuchrole' does not exist"),
                        (("swift01", "compute", "-1"), "count -1: must be a whole number from 0 to 99999")):  # fmt: skip
        code, _, err = run(demo, capsys, "cluster-rolecounts-set", *argv)
        assert code == 1 and err.startswith(f"ocicli: error: {error}") and err.count("\n") == 1
    code, _, err = run(demo, capsys, "machine-show-from-hostname", "nobody.example.com")
    assert code == 1 and "no machine has the hostname nobody.example.com" in err


def test_machine_replace_moves_the_place_to_a_new_chassis(demo, capsys):
    machines.set_(demo, "C1", {"notes": "rack 12"}, [])
    before = machines.show(demo, "C1")
    code, out, err = run(demo, capsys, "machine-replace", "swift01-controller-1.example.com", "C3")
    assert (code, err) == (0, "")
    assert out == ("C3 replaces C1 as swift01-controller-1.example.com (192.168.101.2 on dc1-net1); C1 is forgotten; "
                   "install C3 with machine-install-os\n")  # fmt: skip
    after = machines.show(demo, "C3")
    assert (after["enrolment"], after["addresses"], after["settings"]["notes"]) == (before["enrolment"], before["addresses"], "rack 12")
    assert demo.find(Machine, "C1") is None and demo.get(Cluster, "swift01").first_master == "C3"
    assert refresh.show(demo, "swift01-controller-1.example.com")["parameters"]["oci_serial"] == "C3"  # the ENC follows
    for argv, error in ((("C2", "C2"), "machine C2 cannot replace itself"),
                        (("C3", "C2"), "machine C2 is already enrolled as swift01-swiftstore-1.example.com"),
                        (("NOPE", "C2"), "no machine")):  # fmt: skip
        state = state_files(demo)
        code, _, err = run(demo, capsys, "machine-replace", *argv)
        assert code == 1 and err.startswith(f"ocicli: error: {error}") and err.count("\n") == 1, err
        assert state_files(demo) == state


def test_mutations_print_a_line_and_json(demo, capsys):
    code, out, _ = run(demo, capsys, "machine-add", "C3", "swift01", "compute", "dc1-zone1")
    assert (code, out) == (0, "C3 enrolled as swift01-compute-1.example.com (192.168.101.4 on dc1-net1)\n")
    code, out, _ = run(demo, capsys, "--json", "machine-remove", "C3")
    assert json.loads(out) == {"hostname": "swift01-compute-1.example.com", "serial": "C3"}


def test_errors_are_one_line_with_a_hint_and_exit_1(demo, capsys):
    code, out, err = run(demo, capsys, "cluster-delete", "swift01")
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert err.startswith("ocicli: error: cluster 'swift01' still has 2 machine(s): C1, C2 (machine-remove them first)")


def test_cluster_check_exit_code(demo, capsys):
    clusters.create(demo, "empty", "example.org")
    code, out, _ = run(demo, capsys, "cluster-check", "empty")
    assert code == 3 and "no controller" in out


def test_cluster_set_and_machine_set(demo, capsys):
    code, out, _ = run(demo, capsys, "--json", "cluster-set", "swift01", "--region-name", "Paris", "--swift-part-power", "12")
    assert code == 0
    assert json.loads(out)["settings"]["region_name"] == "Paris"
    code, _, err = run(demo, capsys, "cluster-set", "swift01", "--swift-part-power", "high")
    assert code == 1 and "--swift-part-power: 'high'" in err
    code, out, _ = run(demo, capsys, "--json", "machine-set", "C1", "--notes", "rack 12", "--use_ceph_if_available", "yes")
    assert json.loads(out)["settings"]["notes"] == "rack 12" and json.loads(out)["settings"]["use_ceph_if_available"] is True
    code, out, _ = run(demo, capsys, "--json", "machine-set", "C1", "--unset", "notes")
    assert json.loads(out)["settings"]["notes"] == ""
    # OCI 42's spellings of the rack settings
    rack = ("--dc", "dc1", "--row", "A", "--rack", "a12", "--ustart", "3", "--uend", "4")
    code, out, _ = run(demo, capsys, "--json", "machine-set", "C1", *rack)
    racked = json.loads(out)["settings"]
    assert [racked[k] for k in ("loc_dc", "loc_row", "loc_rack", "loc_u_start", "loc_u_end")] == ["dc1", "A", "a12", 3, 4]


def ocicli(state, *argv):
    env = {**os.environ, "OCI_STATE_DIR": str(state)}
    env.pop("OCI_CONFIG", None)
    return subprocess.run([str(REPO / "bin" / "ocicli"), *argv], capture_output=True, text=True, env=env, timeout=30)


def test_real_command_exit_codes(tmp_path):
    state = tmp_path / "state"
    done = ocicli(state, "no-such-command")
    assert done.returncode == 2 and done.stderr == "ocicli: error: unknown command 'no-such-command' (see ocicli --help)\n"
    done = ocicli(state, "machine-lsit")  # before: a 1,000-character line listing every command
    assert done.returncode == 2 and done.stderr == "ocicli: error: unknown command 'machine-lsit' (did you mean machine-list?)\n"
    done = ocicli(state, "cluster-create", "swift01")
    assert done.returncode == 2 and "the following arguments are required: domain" in done.stderr
    done = ocicli(state, "cluster-create", "../etc", "example.com")
    assert done.returncode == 1 and done.stderr.startswith("ocicli: error: invalid cluster name '../etc'")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    done = ocicli(state, "cluster-create", "swift01", "example.com")
    assert done.returncode == 0
    done = ocicli(state, "--debug", "cluster-create", "swift01", "example.com")
    assert done.returncode == 1 and "Traceback" in done.stderr
    assert "exit codes:" in ocicli(state, "--help").stdout


def test_damaged_state_file_is_a_clear_error(tmp_path):
    state = tmp_path / "state"
    (state / "clusters").mkdir(parents=True)
    (state / "clusters" / "cl1.yaml").write_text("name: cl1\ndomain: example.com\nbogus: 1\n")
    done = ocicli(state, "cluster-list")
    assert done.returncode == 1
    assert done.stderr == "ocicli: error: clusters/cl1.yaml: key 'bogus': unknown key\n"


def test_unwritable_state_is_a_clear_error(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    (state / "clusters").write_text("not a folder")  # any OSError: here, a file where a folder should be
    done = ocicli(state, "cluster-create", "cl1", "example.com")
    assert done.returncode == 1
    assert done.stderr.startswith("ocicli: error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_oci_token_command(tmp_path):
    env = {**os.environ, "OCI_STATE_DIR": str(tmp_path / "state")}
    env.pop("OCI_CONFIG", None)
    token = REPO / "bin" / "oci-token"
    created = subprocess.run([str(token), "create", "ops"], env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert created.startswith("oci-") and len(created) > 40
    listed = subprocess.run([str(token), "--json", "list"], env=env, capture_output=True, text=True, check=True).stdout
    assert json.loads(listed)[0]["name"] == "ops"
    assert created not in listed
    stored = tmp_path / "state" / "tokens" / "ops.yaml"
    assert created not in stored.read_text() and oct(stored.stat().st_mode & 0o777) == "0o600"
    again = subprocess.run([str(token), "create", "ops"], env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert subprocess.run([str(token), "revoke", "ops"], env=env, capture_output=True, text=True).returncode == 0
    gone = subprocess.run([str(token), "revoke", "ops"], env=env, capture_output=True, text=True)
    assert gone.returncode == 1 and gone.stderr == "oci-token: error: no token named 'ops' (see oci-token list)\n"
    typo = subprocess.run([str(token), "lsit"], env=env, capture_output=True, text=True)
    assert typo.returncode == 2 and typo.stderr == "oci-token: error: unknown command 'lsit' (did you mean list?)\n"
    # Through the operations table: every change in the audit log, as "local:<user>", the token never.
    audit = [json.loads(line) for line in (tmp_path / "state" / "audit.log").read_text().splitlines()]
    assert [(a["operation"], a["params"], a["outcome"].split(":")[0]) for a in audit] == [
        ("token_create", {"name": "ops"}, "ok"),
        ("token_create", {"name": "ops"}, "refused"),
        ("token_revoke", {"name": "ops"}, "ok"),
        ("token_revoke", {"name": "ops"}, "refused"),
    ]
    assert all(a["actor"].startswith("local:") for a in audit) and created not in json.dumps(audit)
