"""The real agent on this machine against the embedded server on loopback, then status reports."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from conftest import REPO


def physical_nics() -> dict[str, str]:
    out = {}
    for nic in Path("/sys/class/net").iterdir():
        if (nic / "device").exists():  # backed by a device: a port, not a virtual interface
            out[nic.name] = (nic / "address").read_text().strip()
    return out


def whole_disks() -> dict[str, int]:
    listing = json.loads(
        subprocess.run(["lsblk", "-J", "-b", "-d", "-o", "NAME,SIZE,TYPE"], capture_output=True, text=True, check=True).stdout
    )
    return {d["name"]: int(d["size"]) for d in listing["blockdevices"] if d["type"] == "disk" and int(d["size"]) > 0}


def test_agent_reports_this_machine(server, tmp_path):
    port, env, state = server
    done = subprocess.run(
        [str(REPO / "bin" / "oci-discover"), "--once", "--server", f"127.0.0.1:{port}", "--lock", str(tmp_path / "lock")],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = json.loads(subprocess.run([str(REPO / "bin" / "ocicli"), "--json", "machine-list"], env=env, capture_output=True, text=True,
                                      check=True).stdout)  # fmt: skip
    assert len(shown) == 1
    serial = shown[0]["serial"]
    machine = json.loads(subprocess.run([str(REPO / "bin" / "ocicli"), "--json", "machine-show", serial], env=env,
                                        capture_output=True, text=True, check=True).stdout)  # fmt: skip
    nics = physical_nics()
    if machine["serial_source"] == "mac":  # no DMI tables here: the documented fallback
        assert serial == "mac-" + min(nics.values()).replace(":", "")
    hw = machine["hardware"]
    assert {n["name"]: n["mac"] for n in hw["nics"]} == nics
    assert {d["name"]: d["size_bytes"] for d in hw["disks"]} == whole_disks()
    lsmem = json.loads(subprocess.run(["lsmem", "-J", "-b"], capture_output=True, text=True, check=True).stdout)
    total = sum(int(r["size"]) for r in lsmem["memory"] if r["state"] == "online") // 2**20
    assert hw["memory"]["total_mb"] in (total, *range(total - 1024, total))  # DIMM total or what the kernel sees
    assert hw["cpu"]["threads"] == os.cpu_count()

    report = [str(REPO / "bin" / "oci-report-status"), "--server", f"127.0.0.1:{port}", "--serial", serial]
    subprocess.run([*report, "installing"], check=True, env=env, timeout=60)
    subprocess.run([*report, "installed", "--address", "192.168.101.2"], check=True, env=env, timeout=60)
    refused = subprocess.run([*report[:-1], "NOSUCH", "live"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "no machine with serial 'NOSUCH'" in refused.stderr
    machine = json.loads(subprocess.run([str(REPO / "bin" / "ocicli"), "--json", "machine-show", serial], env=env,
                                        capture_output=True, text=True, check=True).stdout)  # fmt: skip
    assert machine["status"] == "installed"
    assert [h["status"] for h in machine["history"]] == ["live", "installing", "installed"]


def test_print_sends_nothing_and_a_missing_master_is_one_line(tmp_path):
    done = subprocess.run([str(REPO / "bin" / "oci-discover"), "--print"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert json.loads(done.stdout)["version"] == 1
    done = subprocess.run([str(REPO / "bin" / "oci-discover"), "--once", "--lock", str(tmp_path / "l")], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PATH": os.environ["PATH"]})  # fmt: skip
    if not Path("/etc/oci/pxe-server-ip").exists():
        assert done.returncode == 1
        assert done.stderr.strip().endswith("no master address: give --server or write it in /etc/oci/pxe-server-ip")
