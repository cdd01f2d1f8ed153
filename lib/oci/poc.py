"""``oci-poc``: the proof of concept on an embedded default, on loopback, in a temporary state directory.

1. start the package cache installs fetch Debian through (apt-cacher-ng, its cache kept between runs) unless one
   answers on 127.0.0.1:3142 already, and ``oci-api`` on 127.0.0.1 (a free port) with a fresh state directory
   and a configuration naming 127.0.0.1 as the master's address;
2. boot a dozen machines, as far as that exists yet: each posts the hardware report its discovery agent
   makes from real captured tool output (tests/data/hw/), from its own loopback address, so each shows a
   distinct "live" address like a DHCP lease would give;
3. run the demo of the reference README (share/poc/demo.sh) with ``ocicli``, and the install plan of a machine;
   The Puppet server (oci-puppet-setup, then its JVM in the foreground) starts beside them: its CA issues
   the agent certificates installs carry; the PoC waits for it to answer after the demo;
4. stop the servers (and the package cache if it started it) and remove the state directory (``--keep`` leaves
   it for a look).

``oci-poc vms`` (``make poc-vms``) plays the same story on qemu VMs behind simulated BMCs, up to a Puppet run on
each installed VM: lib/oci/pocvms/. ``oci-poc cloud`` (``make poc-cloud``) has OCI deploy a controller and a
compute in containers, then checks the cloud through its APIs: lib/oci/cloudlab/.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from oci import config as config_mod
from oci import puppet as puppet_layout
from oci.cli.edge import edge
from oci.discover.report import from_capture_folder
from oci.packagecache import apt_cacher_ng_conf
from oci.puppet import server as puppet_server
from oci.run import CommandError, run, spawn, stop
from oci.store import Store

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


PACKAGE_CACHE_PORT = 3142
# Kept between runs (so the next PoC's installs are warm); apt-cacher-ng's own /var/cache is its service's.
PACKAGE_CACHE_DIR = Path("/var/cache/oci-poc/apt-cacher-ng")


def package_cache_answers(port: int = PACKAGE_CACHE_PORT) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/acng-report.html")
            return conn.getresponse().status == 200
        finally:
            conn.close()
    except OSError:
        return False


def start_package_cache(workdir: Path, timeout: float = 60) -> subprocess.Popen[bytes] | None:
    """apt-cacher-ng on 127.0.0.1:3142, unless one answers there already (the master's service, another
    PoC's): the process this call started, to stop at the end, or None. Its configuration and logs go
    under ``workdir``; SystemExit when it is not installed or does not answer."""
    if package_cache_answers():
        return None
    conf = workdir / "apt-cacher-ng"
    conf.mkdir()
    PACKAGE_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    (conf / "acng.conf").write_text(apt_cacher_ng_conf(PACKAGE_CACHE_DIR, conf, "127.0.0.1", PACKAGE_CACHE_PORT, conf / "socket"))
    try:
        cache = spawn(["apt-cacher-ng", "-c", str(conf)])
    except CommandError:
        raise SystemExit("oci-poc: apt-cacher-ng is not installed (apt-get install apt-cacher-ng)") from None
    deadline = time.monotonic() + timeout
    while not package_cache_answers():
        if cache.poll() is not None or time.monotonic() > deadline:
            stop(cache)
            if package_cache_answers():  # another one took the port in between: it serves as well
                return None
            raise SystemExit(f"oci-poc: apt-cacher-ng did not answer on 127.0.0.1:{PACKAGE_CACHE_PORT}")
        time.sleep(0.05)
    return cache


def start_puppet_server(base: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """oci-puppet-setup (its CA issues the agent certificates installs need), then the server in the foreground,
    its log in the PoC's folder; it starts while the demo runs (51 s idle, minutes on a loaded machine)."""
    started = step("the Puppet server: configuration and CA (oci-puppet-setup)")
    vardir = base / "puppetserver"
    run([str(REPO / "bin" / "oci-puppet-setup"), "--certname", "localhost", "--vardir", str(vardir)], env=env, timeout=600)
    cfg = config_mod.load(env)
    token = puppet_server.read_token(Store.open(cfg))
    assert token is not None, "oci-puppet-setup made it"
    settings = puppet_server.settings_for(cfg, token, "localhost", vardir)
    process = spawn(puppet_server.command(settings), env=env, cwd=puppet_server.PUPPETSERVER_HOME, log=base / "puppetserver.log")
    print(f"  started (pid {process.pid}), log in {base / 'puppetserver.log'}")
    done(started)
    return process


def wait_for_puppet_server(port: int, confdir: Path, process: subprocess.Popen[bytes], timeout: float = 1200) -> None:
    context = ssl.create_default_context(cafile=str(puppet_layout.ssldir(confdir) / "certs" / "ca.pem"))
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPSConnection("localhost", port, timeout=10, context=context)
            conn.request("GET", "/status/v1/simple")
            if conn.getresponse().read() == b"running":
                return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"oci-poc: the Puppet server did not start; see {confdir.parent / 'puppetserver.log'}")
        time.sleep(1)


def step(title: str) -> float:
    print(f"\n=== {title}", flush=True)
    return time.monotonic()


def done(started: float) -> None:
    print(f"=== done in {time.monotonic() - started:.2f} s", flush=True)


@edge("oci-poc")
def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["vms"]:  # the talk on qemu VMs (make poc-vms): a run of its own
        from oci.pocvms.main import main as vms

        return vms(given[1:])
    if given[:1] == ["cloud"]:  # OCI deploys a small cloud in containers, then checks it (make poc-cloud)
        from oci.cloudlab.main import main as cloud

        return cloud(given[1:])
    parser = argparse.ArgumentParser(prog="oci-poc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the state directory and print its path")
    parser.add_argument("--captures", type=Path, default=REPO / "tests" / "data" / "hw", help="folder of hardware captures")
    args = parser.parse_args(given)
    return _poc(args)


def _poc(args: argparse.Namespace) -> int:
    total = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="oci-poc-"))
    state, config = base / "state", base / "openstack-cluster-installer.conf"
    state.mkdir()
    started = step(f"the package cache on 127.0.0.1:{PACKAGE_CACHE_PORT}")
    try:
        cache = start_package_cache(base)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    print("  apt-cacher-ng " + ("started" if cache else "was already running") + f", cache in {PACKAGE_CACHE_DIR}")
    done(started)
    # The master's address as nodes see it: the plans name it (their mirror through the cache, their reports).
    port = free_port()
    puppet_port = free_port()
    config.write_text(
        f"[api]\nlisten = 127.0.0.1:{port}\n\n[network]\noci_ip = 127.0.0.1\n\n[install]\npackage_cache_port = {PACKAGE_CACHE_PORT}\n"
        f"\n[puppet]\nconfdir = {base / 'puppet'}\nlisten = 127.0.0.1:{puppet_port}\n"
    )
    env = {**os.environ, "OCI_STATE_DIR": str(state), "OCI_CONFIG": str(config)}
    env["PATH"] = f"{REPO / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    try:
        puppet = start_puppet_server(base, env)
    except BaseException:
        if cache is not None:
            stop(cache)
        shutil.rmtree(base, ignore_errors=True)
        raise
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

        started = step(f"the Puppet server answers on 127.0.0.1:{puppet_port} (a JVM: it started with oci-api)")
        wait_for_puppet_server(puppet_port, base / "puppet", puppet)
        done(started)
    finally:
        stop(puppet)
        server.terminate()
        server.wait(timeout=10)
        if cache is not None:
            stop(cache)
        if args.keep:
            print(f"state and configuration kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(f"\nPoC finished in {time.monotonic() - total:.1f} s")
    return 0
