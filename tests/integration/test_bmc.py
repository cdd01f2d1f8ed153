"""BMC control with pyghmi against OpenIPMI's ipmi_sim on loopback: several simulated BMCs at once, each
with a chassis-control hook that records what it was asked."""

from __future__ import annotations

import time

import pytest
from simbmc import log, simulated_bmcs

from conftest import free_port
from oci.bmc import BmcError, Policy, PyghmiBmc, Target


@pytest.fixture
def bmcs(tmp_path):
    """Three ipmi_sim BMCs: [(target, state folder)]."""
    with simulated_bmcs(tmp_path, 3) as out:
        yield out


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
    assert time.monotonic() - started < 60  # a guard against a hang (the call itself gives up after 2 s and a retry)
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


def test_machine_commands_through_the_bmc(bmcs, store, discover, capsys):
    import json

    from oci.cli.main import main
    from oci.model import Machine, MachineStatus
    from oci.service import bmcops

    for i, (target, _) in enumerate(bmcs):
        discover(f"C{i}", address=f"192.168.100.{20 + i}")
        bmcops.set_access(store, f"C{i}", "yes", target.address, target.port, target.user, target.password)
    target, state = bmcs[0]

    def ocicli(*argv):
        code = main(["--json", *argv], store_factory=lambda: store)
        out, err = capsys.readouterr()
        return code, json.loads(out) if out else None, err

    assert ocicli("machine-set-ipmi", "C1", "yes", bmcs[1][0].address, str(bmcs[1][0].port), "ipmiusr", "test")[0] == 0
    code, shown, _ = ocicli("machine-show", "C0")
    assert shown["bmc"] == {"use": True, "address": "127.0.0.1", "port": target.port, "user": "ipmiusr"}
    assert "test" not in json.dumps(shown["bmc"])
    assert oct((store.root / "bmc" / "C0.yaml").stat().st_mode & 0o777) == "0o600"
    assert ocicli("machine-ipmi-cmd", "C0", "power-status")[1]["result"] == "off"
    assert ocicli("machine-ipmi-cmd", "C0", "power-on")[1]["result"] == "on"
    code, result, err = ocicli("machine-ipmi-reboot-on-live", "C0")
    assert result == {"serial": "C0", "status": "bootinglive", "via": "bmc"}, err
    assert log(state)[-2:] == ["boot pxe", "reset"]  # the machine was on: a cycle, which ipmi_sim does as a reset
    assert store.get(Machine, "C0").status is MachineStatus.BOOTINGLIVE
    discover("C0", address="192.168.100.20")  # the live image reports: the machine is live again
    assert store.get(Machine, "C0").status is MachineStatus.LIVE
    assert ocicli("machine-ipmi-reboot-on-hdd", "C0")[1]["status"] == "firstboot"
    assert "boot default" in log(state)
    with pytest.raises(SystemExit) as usage:  # not one of the verbs: refused before anything is sent
        main(["machine-ipmi-cmd", "C0", "reboot"], store_factory=lambda: store)
    assert usage.value.code == 2
    capsys.readouterr()

    bmcops.set_access(store, "C2", "yes", "127.0.0.1", free_port(), "ipmiusr", "test")  # a BMC that does not answer
    code, rows, _ = ocicli("check-all-ipmi")
    assert [(r["serial"], r["reachable"]) for r in rows] == [("C0", True), ("C1", True), ("C2", False)]
    assert "no answer" in rows[2]["error"]
    audit = (store.root / "audit.log").read_text()
    assert '"password": "***"' in audit and '"test"' not in audit


def test_one_time_and_persistent_boot_devices_on_the_wire(bmcs, store, discover, tmp_path, monkeypatch):
    """ipmi_sim keeps no boot flags (it drops the valid and persistent bits), so the Set System Boot Options
    requests are read as pyghmi sends them to the real simulator: a spy on the request, not a fake BMC."""
    from pyghmi.ipmi import command as pyghmi_command

    from oci.service import bmcops

    sent = tmp_path / "sent"
    original = pyghmi_command.Command.raw_command

    def spy(self, *args, **kwargs):
        if kwargs.get("netfn") == 0 and kwargs.get("command") == 8 and kwargs.get("data", ())[:1] == (5,):
            with open(sent, "a") as out:  # the call runs in a child process: a file carries it back
                out.write(" ".join(f"{b:02x}" for b in kwargs["data"][:3]) + "\n")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pyghmi_command.Command, "raw_command", spy)
    target, _ = bmcs[0]
    discover("C0", address="127.0.0.1")
    bmcops.set_access(store, "C0", "yes", target.address, target.port, target.user, target.password)
    bmcops.reboot(store, "C0", "live")
    bmcops.reboot(store, "C0", "hdd")
    discover("C0", address="127.0.0.1", system={"manufacturer": "QEMU", "product_name": "q35", "uefi": True})
    bmcops.reboot(store, "C0", "hdd")
    # Parameter 5, flags (0x80 valid, 0x40 persistent, 0x20 UEFI), device (0x04 PXE, 0x08 disk).
    assert sent.read_text().splitlines() == ["05 80 04", "05 c0 08", "05 e0 08"]
