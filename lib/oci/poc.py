"""``oci-poc``: the proof of concept on an embedded default, on loopback, in a temporary state directory.

1. start ``oci-api`` on 127.0.0.1 (a free port) with a fresh state directory;
2. boot a dozen machines, as far as that exists yet: each posts the hardware report its discovery agent
   makes from real captured tool output (tests/data/hw/), from its own loopback address, so each shows a
   distinct "live" address like a DHCP lease would give;
3. run the demo of the reference README (share/poc/demo.sh) with ``ocicli``;
4. stop the server and remove the state directory (``--keep`` leaves it for a look).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from oci.cli.edge import edge
from oci.discover.report import from_capture_folder
from oci.run import run, spawn

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MACHINES = (  # serial (the reference PoC's naming: hex(0xC0 + i)), captured hardware
    ("C1", "dell-poweredge-r640"),
    ("C2", "hpe-proliant-dl360-gen10"),
    ("C3", "lenovo-thinksystem-sr650"),
    ("C4", "inspur-nf5280m6"),
    ("C5", "gigabyte-r162-za0-00"),
    ("C6", "supermicro-as-1124us-tnrp"),
    ("C7", "asrockrack-romed8-2t"),
    ("C8", "quanta-quantamicro-x10e-9n"),
    ("C9", "online-labs-sr"),
    ("CA", "openstack-nova"),
    ("CB", "microsoft-virtual-machine"),
    ("CC", "firecracker-vm"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def request(port: int, method: str, path: str, body: bytes | None = None, source: str = "127.0.0.1") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_up(port: int, server: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"oci-poc: oci-api exited with code {server.returncode}")
        try:
            if request(port, "GET", "/api/v1/health")[0] == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("oci-poc: oci-api did not answer in time")


def step(title: str) -> float:
    print(f"\n=== {title}", flush=True)
    return time.monotonic()


def done(started: float) -> None:
    print(f"=== done in {time.monotonic() - started:.2f} s", flush=True)


@edge("oci-poc")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oci-poc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the state directory and print its path")
    parser.add_argument("--captures", type=Path, default=REPO / "tests" / "data" / "hw", help="folder of hardware captures")
    args = parser.parse_args(argv)
    return _poc(args)


def _poc(args: argparse.Namespace) -> int:
    state = Path(tempfile.mkdtemp(prefix="oci-poc-"))
    env = {**os.environ, "OCI_STATE_DIR": str(state), "PATH": f"{REPO / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("OCI_CONFIG", None)
    port = free_port()
    total = time.monotonic()
    started = step(f"starting oci-api on 127.0.0.1:{port}, state in {state}")
    server = spawn([str(REPO / "bin" / "oci-api"), "--listen", f"127.0.0.1:{port}"], env=env)
    try:
        wait_until_up(port, server)
        done(started)

        started = step(f"{len(MACHINES)} machines boot the live image and report their hardware")
        for index, (serial, capture) in enumerate(MACHINES):
            body = json.dumps(from_capture_folder(args.captures / capture, serial=serial)).encode()
            source = f"127.0.100.{20 + index}"  # each machine posts from its own address, like a DHCP lease
            status, reply = request(port, "POST", "/api/v1/report", body, source=source)
            data = json.loads(reply)
            notes = data["data"]["notes"] if status == 200 else []
            print(f"  {serial}  {capture:<28} {source:<15} HTTP {status} {data['status']}" + (f"  ({len(notes)} note(s))" if notes else ""))
            if status != 200:
                print(f"oci-poc: report of {serial} refused: {data['message']}", file=sys.stderr)
                return 1
        done(started)

        started = step("the demo of the reference README, with ocicli")
        run(["/bin/sh", str(REPO / "share" / "poc" / "demo.sh")], env=env, timeout=600, capture=False)
        done(started)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if args.keep:
            print(f"state kept in {state}")
        else:
            shutil.rmtree(state, ignore_errors=True)
    print(f"\nPoC finished in {time.monotonic() - total:.1f} s")
    return 0
