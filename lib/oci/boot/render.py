"""``oci-boot-render``: write the DHCP configuration and the TFTP root of the provisioning network.

Files, under ``--target`` (default ``/``): ``etc/dhcp/dhcpd.conf`` and ``srv/tftp/{undionly.kpxe,ipxe.efi}``
(the first stage only: iPXE then fetches everything over HTTP). Each file is replaced atomically and only
when it changed. With ``--check`` the new DHCP configuration is first validated by ``dhcpd -t``: a broken
configuration never replaces the running one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from oci import config as config_mod
from oci.boot import dhcp
from oci.boot.site import BootSite
from oci.cli.edge import edge
from oci.errors import ConfigError
from oci.netconf.target import write_files
from oci.run import CommandError, run
from oci.store.files import read_bytes
from oci.templates import Templates
from oci.templates import load as load_templates

DHCPD_CONF = Path("etc/dhcp/dhcpd.conf")
TFTP_ROOT = Path("srv/tftp")
IPXE_FILES = ("undionly.kpxe", "ipxe.efi")


def check_dhcpd(text: str) -> None:
    """``dhcpd -t``: the real daemon's parser; a ConfigError with its complaint when it refuses."""
    with tempfile.NamedTemporaryFile("w", prefix="oci-dhcpd-", suffix=".conf") as handle:
        handle.write(text)
        handle.flush()
        try:
            run(["dhcpd", "-t", "-4", "-q", "-cf", handle.name], timeout=30)
        except CommandError as exc:
            complaint = [line for line in exc.output.splitlines() if line.strip() and "exiting" not in line.lower()]
            raise ConfigError("dhcpd refuses the rendered configuration: " + (complaint[0] if complaint else exc.message)) from None


def files(site: BootSite, ipxe_dir: Path, templates: Templates | None = None) -> dict[Path, bytes]:
    out = {DHCPD_CONF: dhcp.render(site, templates).encode()}
    for name in IPXE_FILES:
        data = read_bytes(ipxe_dir / name)
        if data is None:
            raise ConfigError(f"{ipxe_dir / name} is missing", hint="install Debian's ipxe package, or set [boot] ipxe_dir")
        out[TFTP_ROOT / name] = data
    return out


def write(target: Path, rendered: dict[Path, bytes], check: bool) -> list[Path]:
    """Write what changed; the paths written."""
    if check:
        check_dhcpd(rendered[DHCPD_CONF].decode())
    target.mkdir(parents=True, exist_ok=True)  # a new root, as the directories under it are made
    # The same checked writer as oci-netconf: no path may lead out of the target through a symbolic link.
    return write_files(target, {relative.as_posix(): data for relative, data in rendered.items()}, only_changed=True)


@edge("oci-boot-render")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="oci-boot-render",
        description="Write the DHCP configuration and TFTP root of the provisioning network, from the OCI configuration.",
        epilog="Exit codes: 0 written (or unchanged), 1 error (nothing replaced), 2 usage.",
    )
    parser.add_argument("--target", type=Path, default=Path("/"), help="root to write under (default /)")
    parser.add_argument("--check", action="store_true", help="validate the DHCP configuration with dhcpd -t before replacing it")
    parser.add_argument("--print", action="store_true", help="print the DHCP configuration and write nothing")
    args = parser.parse_args(argv)
    cfg = config_mod.load()
    site = BootSite.from_config(cfg)
    templates = load_templates(cfg.templates_dir)
    if args.print:
        text = dhcp.render(site, templates)
        if args.check:
            check_dhcpd(text)
        sys.stdout.write(text)
        return 0
    written = write(args.target, files(site, cfg.ipxe_dir, templates), args.check)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("unchanged")
    return 0
