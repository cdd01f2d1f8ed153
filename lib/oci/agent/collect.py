"""Collectors: run each tool once through ``oci.run`` and keep its output for the pure parsers.

A tool that is missing or fails is recorded in ``Captures.errors`` (one line each) and the rest goes on:
a report with what is known beats no report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from oci.discover import nics
from oci.discover.report import Captures
from oci.run import CommandError, run

Runner = Callable[[Sequence[str]], str]  # argv -> standard output; raises CommandError

LSBLK = ["lsblk", "-J", "-b", "-d", "-o", "NAME,SIZE,TYPE,TRAN,MODEL,SERIAL,ROTA"]


def system_runner(argv: Sequence[str]) -> str:
    return run(argv, timeout=30).stdout


def _first_line(exc: CommandError) -> str:
    lines = [line.strip() for line in exc.output.strip().splitlines() if line.strip()]
    code = "timed out" if exc.returncode is None else ("not installed" if exc.returncode == 127 else f"exit code {exc.returncode}")
    return f"{code}: {lines[-1]}" if lines else code


def collect(runner: Runner = system_runner, root: Path = Path("/")) -> Captures:
    """Everything the report needs from this machine; ``root`` is where /proc, /sys and /dev are."""
    captures = Captures()

    def tool(what: str, argv: Sequence[str]) -> str | None:
        try:
            return runner(argv)
        except CommandError as exc:
            captures.errors.append(f"{what}: {_first_line(exc)}"[:200])
            return None

    def read(what: str, path: Path) -> str | None:
        try:
            return path.read_text()
        except OSError as exc:
            captures.errors.append(f"{what}: {exc.strerror}")
            return None

    captures.dmidecode = tool("dmidecode", ["dmidecode"])
    captures.lsblk_json = tool("lsblk", LSBLK)
    captures.ip_link_json = tool("ip link", ["ip", "-j", "link", "show"])
    if captures.ip_link_json is not None:
        try:
            ports = [n["name"] for n in nics.from_json(captures.ip_link_json)]
        except ValueError:
            ports = []  # the report builder says the output was unreadable
        for name in ports:
            driver = tool(f"ethtool -i {name}", ["ethtool", "-i", name])
            if driver is not None:
                captures.ethtool_driver[name] = driver
            settings = tool(f"ethtool {name}", ["ethtool", name])
            if settings is not None:
                captures.ethtool[name] = settings
    captures.lldpctl_json = tool("lldpctl", ["lldpctl", "-f", "json"])
    captures.lscpu_json = tool("lscpu", ["lscpu", "-J"])
    captures.lsmem_json = tool("lsmem", ["lsmem", "-J", "-b"])
    captures.meminfo = read("/proc/meminfo", root / "proc" / "meminfo")
    captures.ipmitool_mc_info = tool("ipmitool mc info", ["ipmitool", "mc", "info"])
    captures.ipmitool_lan_print = tool("ipmitool lan print", ["ipmitool", "lan", "print"])
    captures.efi = (root / "sys" / "firmware" / "efi").is_dir()
    if captures.efi:  # without EFI there is no secure boot to ask about
        captures.mokutil = tool("mokutil", ["mokutil", "--sb-state"])
    captures.sorted_disks = (root / "dev" / "disk" / "oci-sort").is_dir()
    return captures
