"""Power-on to `installed`, and to the first Puppet run's `success`, of one qemu VM under TCG (2 vCPUs, 2 GiB):
PXE, the live image, `machine-install-os`, the reboot to its own disk, then Puppet against the lab's Puppet
server (role dns: oci::generic). Each case is the VM install test of that name (tests/integration/
test_install_vm.py, through `make vm-install-test`, which also builds the live image with the lab's SSH CA);
this prints its figures and the size of the work (disks, firmware, the install's steps, the Puppet run).
An hour or more per case under TCG; needs root. The test's output goes to build/vm-lab/bench-<case>.log.

    vm_install.py [one-disk|raid1|uefi]...   (default: one-disk)
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = {
    "one-disk": "one 10 GiB disk, BIOS (SeaBIOS)",
    "raid1": "two 10 GiB disks in software RAID 1, BIOS (SeaBIOS)",
    "uefi": "one 10 GiB disk, UEFI (OVMF)",
}


def main(cases: list[str]) -> int:
    unknown = [case for case in cases if case not in SIZES]
    if unknown:
        print(f"vm_install.py: unknown case {unknown[0]!r}: one of {', '.join(SIZES)}", file=sys.stderr)
        return 2
    failed = 0
    for case in cases:
        log = REPO / "build" / "vm-lab" / f"bench-{case}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with log.open("w") as out:
            argv = ["make", "-C", str(REPO), "vm-install-test", f"VM_TESTS=-k {case}"]
            done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False)
        elapsed = time.monotonic() - started
        figures = re.search(rf"^{re.escape(case)}: (power-on to live .*)$", log.read_text(errors="replace"), re.M)
        if done.returncode != 0 or figures is None:
            print(f"vm install {case} ({SIZES[case]}): FAILED after {elapsed:.0f} s (exit {done.returncode}); see {log}")
            failed += 1
            continue
        print(f"vm install {case} ({SIZES[case]}): {figures.group(1)}; in all {elapsed:.0f} s (the live image's build included)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["one-disk"]))
