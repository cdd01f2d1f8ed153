"""``oci-install``: install Debian on this machine from the bundle the master sent (docs/install.md).

Reads the bundle and deletes it (it holds the node's keys), runs the steps of ``oci.install.steps`` and
reports each to the master, then reports ``firstboot`` and reboots from the disk. Every line goes to the log
(appended, a timestamp per line; ``machine-install-log`` reads it) and to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from oci import templates
from oci.agent.daemon import HOST_KEY, poster
from oci.cli.edge import edge
from oci.config import DEFAULT_TEMPLATES_DIR
from oci.errors import OciError
from oci.install import bundle, steps
from oci.install.plan import BUNDLE_PATH, LOG_PATH
from oci.install.runner import LOG, HttpReporter, Reporter, Step, run_steps
from oci.run import run

MOUNT_BASE = Path("/mnt")


class BundleError(OciError):
    """The bundle cannot be read: nothing was changed on the disks."""


def read_bundle(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read the bundle {path}: {exc.strerror}", hint="machine-install-os sends it") from None
    path.unlink()  # it holds the node's private keys: gone before anything else happens
    return data


def _log_to(path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")  # appended: a second attempt follows the first
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    return handler


def install(
    data: bytes,
    reporter: Reporter | None = None,
    mount_base: Path = MOUNT_BASE,
    step_list: list[Step[steps.Context]] | None = None,
    reboot: bool = True,
    templates_dir: Path | None = DEFAULT_TEMPLATES_DIR,
) -> int:
    """Install from the bundle's bytes; 0 once the target is unmounted (and the reboot asked), 1 after a
    failed step and its teardowns. ``reporter`` and ``step_list`` are for tests (a recording reporter, a
    step replaced)."""
    plan, files = bundle.unpack(data)
    LOG.info("installing %s (serial %s) on %s", plan.hostname, plan.serial, ", ".join(plan.layout.disks))
    reporter = reporter or HttpReporter(plan.status_url, plan.serial, poster(HOST_KEY))
    mount_base.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="oci-install-", dir=mount_base))
    # A live node has no OCI configuration: an operator's overrides are in the default folder (docs/templates.md).
    context = steps.Context(plan, files, target, templates.load(templates_dir))
    try:
        failure = run_steps(step_list if step_list is not None else steps.steps(plan), context, reporter)
    finally:
        try:
            target.rmdir()
        except OSError as exc:  # still a mount point: the teardown said why in the log
            LOG.error("mount point %s left behind: %s", target, exc.strerror)
    if failure is not None:
        LOG.error("install failed at step %s: %s", failure.step, failure.error)
        return 1
    reporter.finished()
    LOG.info("installed; %s", "rebooting from the disk" if reboot and plan.reboot else "not rebooting")
    if reboot and plan.reboot:
        run(["systemctl", "reboot"], timeout=60)
    return 0


@edge("oci-install")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="oci-install",
        description="Install Debian on this machine's disks from the bundle the OCI master sent, reporting each step.",
        epilog="Exit codes: 0 installed (then reboots), 1 a step failed (its teardown ran: nothing stays mounted), 2 usage.",
    )
    parser.add_argument("--bundle", type=Path, default=Path(BUNDLE_PATH), help=f"the bundle (default {BUNDLE_PATH}); deleted once read")
    parser.add_argument("--log", type=Path, default=Path(LOG_PATH), help=f"log file, appended to (default {LOG_PATH})")
    parser.add_argument("--no-reboot", action="store_true", help="stop once installed instead of rebooting")
    args = parser.parse_args(argv)
    handlers: list[logging.Handler] = [_log_to(args.log), logging.StreamHandler(sys.stderr)]
    handlers[1].setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    LOG.setLevel(logging.INFO)
    LOG.propagate = False  # these handlers say everything once
    for handler in handlers:
        LOG.addHandler(handler)
    try:
        return install(read_bundle(args.bundle), reboot=not args.no_reboot)
    finally:
        for handler in handlers:
            LOG.removeHandler(handler)
            handler.close()
