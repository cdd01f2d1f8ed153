"""BMC control with pyghmi against OpenIPMI's ipmi_sim on loopback: several simulated BMCs at once, each
with a chassis-control hook that records what it was asked."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from conftest import REPO, free_port
from oci.bmc import BmcError, Policy, PyghmiBmc, Target

DATA = REPO / "tests" / "data" / "ipmi"


@pytest.fixture
def bmcs(tmp_path):
    """Three ipmi_sim BMCs: [(target, state folder)]."""
    if shutil.which("ipmi_sim") is None:
        pytest.fail("ipmi_sim (openipmi) is not installed: run make deps")
    sims, out = [], []
    for i in range(3):
        port = free_port()
        state = tmp_path / f"node{i}"
        config = tmp_path / f"node{i}.conf"
        config.write_text(
            f'name "node{i}"\nset_working_mc 0x20\n  startlan 1\n    addr 127.0.0.1 {port}\n    priv_limit admin\n'
            "    allowed_auths_callback none md2 md5 straight\n    allowed_auths_user none md2 md5 straight\n"
            "    allowed_auths_operator none md2 md5 straight\n    allowed_auths_admin none md2 md5 straight\n"
            f"    guid a123456789abcdefa123456789abcd0{i}\n  endlan\n"
            f'  chassis_control "{DATA / "chassis-control"} {state}"\n'
            '  user 2 true  "ipmiusr" "test" admin    10       none md2 md5 straight\n'
        )
        (tmp_path / f"persist{i}").mkdir()
        argv = ["ipmi_sim", "-n", "-c", str(config), "-f", str(DATA / "node.emu"), "-s", str(tmp_path / f"persist{i}")]
        sims.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL))
        out.append((Target("127.0.0.1", port, "ipmiusr", "test"), state))
    time.sleep(0.5)
    yield out
    for sim in sims:
        sim.terminate()
        sim.wait(timeout=10)


def log(state):
    return (state / "log").read_text().splitlines() if (state / "log").exists() else []


def test_every_verb(bmcs, tmp_path):
    target, state = bmcs[0]
    bmc = PyghmiBmc(target, Policy(timeout=10, lock_dir=tmp_path / "locks"))
    assert bmc.power_status() == "off"
    assert bmc.power("on") == "on"
    assert bmc.power_status() == "on"
    assert bmc.set_boot("network") == "network"
    assert bmc.set_boot("hd", persistent=True, uefi=True) == "hd"
    bmc.power("reset")
    bmc.power("off")
    assert log(state) == ["power 1", "boot pxe", "boot default", "reset", "power 0"]
    assert bmc.info()["ipmi_version"] == "2.0"


def test_a_silent_bmc_fails_within_its_timeout_and_others_carry_on(bmcs, tmp_path):
    silent = PyghmiBmc(Target("127.0.0.1", free_port(), "ipmiusr", "test"), Policy(timeout=2, retries=1))
    started = time.monotonic()
    with pytest.raises(BmcError, match="no answer within 2 s"):
        silent.power_status()
    assert time.monotonic() - started < 10
    assert PyghmiBmc(bmcs[1][0]).power_status() == "off"


def test_wrong_credentials_are_said_plainly(bmcs):
    target, _ = bmcs[2]
    wrong = PyghmiBmc(Target(target.address, target.port, "ipmiusr", "not-the-password"), Policy(timeout=5, retries=0))
    with pytest.raises(BmcError) as err:
        wrong.power_status()
    assert "not-the-password" not in str(err.value)
    assert str(err.value) == f"BMC {target} refused the session"
    assert err.value.hint == "check the user and password (machine-set-ipmi)"


def test_calls_to_one_bmc_are_spaced(bmcs, tmp_path):
    target, _ = bmcs[0]
    bmc = PyghmiBmc(target, Policy(min_interval=0.5, lock_dir=tmp_path / "locks"))
    started = time.monotonic()
    for _ in range(3):
        bmc.power_status()
    assert time.monotonic() - started >= 1.0
