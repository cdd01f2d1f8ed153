"""Simulated BMCs for tests and benchmarks: OpenIPMI's ipmi_sim on loopback, each with a chassis-control hook
that records what it was asked (tests/data/ipmi/chassis-control). No pytest here: bench/bmc.py uses it too."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from oci.bmc import Target

DATA = Path(__file__).resolve().parent.parent / "data" / "ipmi"
EMU = Path(__file__).resolve().parents[2] / "share" / "poc" / "ipmi-sim.emu"  # the PoC's BMC, as oci-poc vms runs it


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # IPMI is UDP
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _udp_ports_bound() -> set[int]:
    """Local UDP ports with a socket bound on 127.0.0.1 (the kernel's table: no packet sent)."""
    lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    return {int(line.split()[1].split(":")[1], 16) for line in lines if line.split()[1].startswith("0100007F:")}


def _wait_bound(sim: subprocess.Popen[bytes], port: int, guard: float = 60) -> None:
    """Until ``sim`` listens on ``port``: a BMC asked before that would not answer (the guard is generous:
    it only stops a simulator that never starts)."""
    give_up = time.monotonic() + guard
    while port not in _udp_ports_bound():
        if sim.poll() is not None or time.monotonic() > give_up:
            raise RuntimeError(f"ipmi_sim did not start on 127.0.0.1:{port} (exit {sim.poll()})")
        time.sleep(0.02)


@contextmanager
def serial_line() -> Iterator[int]:
    """A machine's serial port as ipmi_sim reaches it (``sol "tcp:..."``): a TCP server on loopback that
    echoes what it receives in upper case, so a test sees its keys come back through the BMC. Yields the port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                line, _ = server.accept()
            except TimeoutError:
                continue
            with line:
                line.settimeout(0.2)
                while not stop.is_set():
                    try:
                        data = line.recv(1024)
                    except TimeoutError:
                        continue
                    if not data:
                        break
                    line.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=10)
        server.close()


@contextmanager
def simulated_bmcs(folder: Path, count: int, consoles: bool = False) -> Iterator[list[tuple[Target, Path]]]:
    """``count`` BMCs answering on 127.0.0.1 (user ipmiusr, password test): [(target, state folder)].
    With ``consoles``, each serves serial over LAN from a ``serial_line``."""
    if shutil.which("ipmi_sim") is None:
        raise RuntimeError("ipmi_sim (openipmi) is not installed: run make deps")
    folder.mkdir(parents=True, exist_ok=True)
    sims, out = [], []
    lines = ExitStack()
    try:
        for i in range(count):
            sol = f'  sol "tcp:127.0.0.1:{lines.enter_context(serial_line())}" 115200\n' if consoles else ""
            port = _free_port()
            state = folder / f"node{i}"
            config = folder / f"node{i}.conf"
            config.write_text(
                f'name "node{i}"\nset_working_mc 0x20\n  startlan 1\n    addr 127.0.0.1 {port}\n    priv_limit admin\n'
                "    allowed_auths_callback none md2 md5 straight\n    allowed_auths_user none md2 md5 straight\n"
                "    allowed_auths_operator none md2 md5 straight\n    allowed_auths_admin none md2 md5 straight\n"
                f"    guid a123456789abcdefa123456789ab{i:04x}\n  endlan\n"
                f'  chassis_control "{DATA / "chassis-control"} {state}"\n'
                f"{sol}"
                '  user 2 true  "ipmiusr" "test" admin    10       none md2 md5 straight\n'
            )
            (folder / f"persist{i}").mkdir()
            argv = ["ipmi_sim", "-n", "-c", str(config), "-f", str(EMU), "-s", str(folder / f"persist{i}")]
            sims.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL))
            out.append((Target("127.0.0.1", port, "ipmiusr", "test"), state))
        for sim, (target, _) in zip(sims, out, strict=True):
            _wait_bound(sim, target.port)
        yield out
    finally:
        for sim in sims:
            sim.terminate()
            sim.wait(timeout=10)
        lines.close()


def log(state: Path) -> list[str]:
    """What the BMC's chassis control was asked, in order."""
    return (state / "log").read_text().splitlines() if (state / "log").exists() else []


def lanplus(target: Target) -> list[str]:
    """ipmitool over the network to a simulated BMC, standing in for the node's local interface."""
    # Cipher suite 3 given: ipmitool otherwise asks for the list, which ipmi_sim does not answer (10 s lost).
    return ["ipmitool", "-I", "lanplus", "-C", "3", "-H", target.address, "-p", str(target.port), "-U", target.user, "-P", target.password]
