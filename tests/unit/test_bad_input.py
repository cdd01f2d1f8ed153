"""Bad input never makes a 5xx, a traceback or a wrong value; hostile text never reaches a terminal (issue #14, 5-8).

Each case below is one of the inputs that used to give HTTP 500 (or to be taken as a number it is not),
reproduced through the real path: the in-process WSGI app with a valid token, or ``ocicli`` in local mode.
The property-based fuzz tests that look for more are in tests/unit/test_fuzz.py.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import pty
import select
import subprocess

import pytest
from test_api import OCI42_BODY

from conftest import NOW, REPO, report_body, state_files
from oci.cli.main import main
from oci.cli.output import emit
from oci.model import Machine
from oci.service import machines, tokens
from wsgi_client import Client


def oci42(**machine):
    body = copy.deepcopy(OCI42_BODY)
    body["machine"][0].update(machine)
    return body


def raw(document):
    """JSON text; ``"__1e999__"`` becomes the bare number 1e999, which json.dumps cannot write."""
    return json.dumps(document).replace('"__1e999__"', "1e999").encode()


REPORTS = [
    pytest.param("/api/v1/report", report_body("C9", cpu={"threads": "²"}), 200, id="v1-superscript-digit"),
    pytest.param("/api/v1/report", report_body("C9", cpu={"sockets": "¹", "threads": "2"}), 200, id="v1-superscript-one"),
    pytest.param("/api/v1/report", report_body("C9", cpu={"threads": "1" * 5000}), 200, id="v1-5000-digits"),
    pytest.param("/api/v1/report", report_body("C9", cpu={"mhz": 10**400}), 200, id="v1-int-beyond-float"),
    pytest.param("/api/v1/report", report_body("C9", system={"manufacturer": "\ud800"}), 400, id="v1-lone-surrogate"),
    pytest.param("/api/v1/report", report_body("C9", **{"\udfff": 1}), 400, id="v1-lone-surrogate-key"),
    pytest.param("/api/v1/report", report_body("C9", cpu={"mhz": "__1e999__"}), 400, id="v1-1e999"),
    pytest.param("/oci/report.php", oci42(cpu_threads="²"), 200, id="oci42-superscript-digit"),
    pytest.param("/oci/report.php", oci42(productname="\ud800"), 400, id="oci42-lone-surrogate"),
    pytest.param("/oci/report.php", oci42(cpu_mhz="__1e999__"), 400, id="oci42-1e999"),
]


@pytest.mark.parametrize(("path", "body", "status"), REPORTS)
def test_hostile_reports_are_a_4xx_or_unknown_values(store, caplog, path, body, status):
    got, headers, payload = Client(store).request("POST", path, raw(body))
    reply = json.loads(payload)
    assert got == status, reply
    assert "\n" not in reply["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    if status == 200:  # the odd value is unknown, never a number it is not
        assert store.get(Machine, reply["data"]["serial"]).hardware.cpu.threads in (None, 2, 104)
    else:
        assert not (store.root / "machines").exists()


@pytest.mark.parametrize("digits", ["٣", "１２", "²", "1_0", " 7", "7.0"])
def test_report_integers_are_ascii_digits(store, digits):
    status, _ = Client(store).post_json("/api/v1/report", report_body("C1", cpu={"threads": digits}, memory={"total_mb": digits}))
    assert status == 200
    hardware = store.get(Machine, "C1").hardware
    assert hardware.cpu.threads == (7 if digits == " 7" else None)
    assert hardware.memory is None or hardware.memory.total_mb == 7


ADMIN = [
    pytest.param("PATCH", "/api/v1/machines/C1", {"settings": {"cpu_allocation_ratio": "__1e999__"}}, "not a finite", id="ratio-1e999"),
    pytest.param("PATCH", "/api/v1/machines/C1", {"settings": {"cpu_allocation_ratio": 10**400}}, "finite number", id="ratio-huge-int"),
    pytest.param("PATCH", "/api/v1/machines/C1", {"settings": {"cpu_allocation_ratio": -2}}, "below 0", id="ratio-negative"),
    pytest.param("PATCH", "/api/v1/machines/C1", {"settings": {"notes": "\ud800"}}, "unpaired surrogate", id="setting-surrogate"),
    pytest.param("PATCH", "/api/v1/networks/net1", {"changes": {"vlan": "__1e999__"}}, "not a finite number", id="vlan-1e999"),
    pytest.param("PATCH", "/api/v1/networks/net1", {"changes": {"vlan": 1.5}}, "invalid VLAN 1.5", id="vlan-float"),
    pytest.param("PATCH", "/api/v1/networks/net1", {"changes": {"vlan": []}}, "invalid VLAN []", id="vlan-list"),
    pytest.param("PATCH", "/api/v1/networks/net1", {"changes": {"vlan": "٣"}}, "invalid VLAN", id="vlan-arabic-digit"),
    pytest.param("PATCH", "/api/v1/networks/net1", {"changes": {"mtu": "１５００"}}, "invalid MTU", id="mtu-fullwidth"),
    pytest.param("PATCH", "/api/v1/networks/spare", {"changes": {"cidr": "٢٤"}}, "invalid prefix length", id="cidr-arabic-digits"),
    pytest.param("PATCH", "/api/v1/networks/spare", {"changes": {"ip": 3232261377}}, "invalid network address", id="ip-as-int"),
    pytest.param("PATCH", "/api/v1/networks/spare", {"changes": {"ipmi_match": ["x"]}}, "invalid network", id="ipmi-match-list"),
    pytest.param("POST", "/api/v1/networks", {"name": "n2", "ip": "10.0.0.0", "cidr": "２４", "location": "loc1", "public": "no"},
                 "invalid prefix length", id="create-fullwidth-cidr"),
    pytest.param("PUT", "/api/v1/machines/C2/bmc", {"use": "no", "address": "", "port": "٦٢٣", "user": "u", "password": "p"},
                 "invalid BMC port", id="bmc-port-arabic-digits"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "message"), ADMIN)
def test_hostile_admin_values_are_a_400_and_change_nothing(site, caplog, method, path, body, message):
    client = Client(site, token=tokens.create(site, "ops", NOW))
    before = state_files(site)
    token = client.token
    status, _, payload = client.request(method, path, raw(body), remote="10.20.30.40", token=token, scheme="https")
    reply = json.loads(payload)
    assert status == 400, reply
    assert message in reply["message"] and "\n" not in reply["message"]
    assert state_files(site) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


CLI = [
    pytest.param(["--cpu-allocation-ratio", "nan"], "--cpu-allocation-ratio: 'nan': expected a finite decimal number", id="nan"),
    pytest.param(["--cpu-allocation-ratio", "inf"], "--cpu-allocation-ratio: 'inf'", id="inf"),
    pytest.param(["--ram-allocation-ratio", "1e999"], "--ram-allocation-ratio: '1e999'", id="1e999"),
    pytest.param(["--disk-allocation-ratio", "١٫٥"], "--disk-allocation-ratio: '\\u0661\\u066b\\u0665'", id="arabic-decimal"),
    pytest.param(["--loc-u-start", "٣"], "--loc-u-start: '\\u0663': expected an integer (digits 0-9)", id="arabic-digit"),
    pytest.param(["--nova-reserved-host-memory-mb", "１２"], "--nova-reserved-host-memory-mb: '\\uff11\\uff12'", id="fullwidth"),
    pytest.param(["--loc-u-end", "1_0"], "--loc-u-end: '1_0'", id="underscore"),
]


def refused_in_one_line(site, capsys, argv, message):
    """``ocicli ARGV`` on ``site`` fails with one error line holding ``message``, and changes nothing."""
    before = state_files(site)
    code = main(argv, store_factory=lambda: site)
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err.startswith("ocicli: error: ") and err.count("\n") == 1, err
    assert message in err
    assert state_files(site) == before


@pytest.mark.parametrize(("options", "message"), CLI)
def test_ocicli_machine_set_refuses_non_numbers_in_one_line(site, capsys, options, message):
    refused_in_one_line(site, capsys, ["machine-set", "C1", *options], message)


def test_a_failed_change_is_audited_as_failed_in_strict_json(site):
    client = Client(site, token=tokens.create(site, "ops", NOW))
    (site.root / "roles" / "broken.yaml").mkdir(parents=True)  # reading it fails with an OSError, not an OciError
    status, _ = client.call("POST", "/api/v1/roles", {"name": "broken"})
    assert status == 500
    status, _ = client.call("POST", "/api/v1/roles", {"name": "custom1"})
    assert status == 200
    status, _ = client.call("POST", "/api/v1/roles", {"name": "vm-net"})  # a built-in role
    assert status in (400, 409)

    def strict(name):
        raise ValueError(f"{name} is not strict JSON")

    entries = [json.loads(line, parse_constant=strict) for line in (site.root / "audit.log").read_text().splitlines()]
    outcomes = [(e["params"].get("name"), e["outcome"]) for e in entries if e["actor"] == "token:ops"]
    assert outcomes[0] == ("broken", "failed: IsADirectoryError")
    assert outcomes[1] == ("custom1", "ok")
    assert outcomes[2][0] == "vm-net" and outcomes[2][1].startswith("refused: ")


def test_the_audit_log_stays_strict_json_whatever_a_local_caller_passes(site):
    from oci import operations

    for settings in ({"cpu_allocation_ratio": float("nan")}, {"ram_allocation_ratio": float("-inf")}, {"notes": "\ud800"}):
        with pytest.raises(Exception) as refused:
            operations.execute(site, "machine_set", {"machine": "C1", "settings": settings, "unset": []})
        assert type(refused.value).__name__ == "InvalidInput", refused.value

    def strict(name):
        raise ValueError(f"{name} is not strict JSON")

    lines = (site.root / "audit.log").read_text().splitlines()[-3:]
    entries = [json.loads(line, parse_constant=strict) for line in lines]
    assert [e["params"]["settings"] for e in entries] == [{"cpu_allocation_ratio": "nan"}, {"ram_allocation_ratio": "-inf"},
                                                          {"notes": "\ud800"}]  # fmt: skip
    assert all(e["outcome"].startswith("refused: ") for e in entries)


FREE_TEXT = [
    pytest.param(["--dest-blk", "../../etc/x"], "--dest-blk: '../../etc/x': expected a block device name", id="dest-blk-path"),
    pytest.param(["--dest-blk", "/dev/sda"], "--dest-blk: '/dev/sda': expected a block device name", id="dest-blk-dev"),
    pytest.param(["--raid-dev1", "sd b"], "--raid-dev1: 'sd b'", id="raid-dev-space"),
    pytest.param(["--serial-console-device", "/etc/passwd"], "--serial-console-device: '/etc/passwd': expected a serial", id="tty-path"),
    pytest.param(["--serial-console-device", "ttyS0;reboot"], "--serial-console-device: 'ttyS0;reboot'", id="tty-shell"),
    pytest.param(["--notes", "two\nlines"], "--notes: 'two\\nlines': expected one line of printable text", id="notes-newline"),
    pytest.param(["--notes", "csi\x9b2J"], "--notes: 'csi\\x9b2J'", id="notes-c1-csi"),
    pytest.param(["--notes", "ls\u2028sep"], "--notes: 'ls\\u2028sep'", id="notes-line-separator"),
    pytest.param(["--notes", "bidi\u202eevil"], "--notes: 'bidi\\u202eevil'", id="notes-bidi"),
    pytest.param(["--notes", "x" * 256], "at most 255 characters", id="notes-too-long"),
    pytest.param(["--notes", "rack\udcff12"], "--notes: 'rack\\udcff12'", id="notes-undecodable-argv"),
    pytest.param(["--loc-rack", "r\t1"], "--loc-rack: 'r\\t1'", id="loc-tab"),
    pytest.param(["--cpu-model", "Skylake Server"], "--cpu-model: 'Skylake Server': expected one word", id="cpu-model-space"),
    pytest.param(["--neutron-external-network-name", "ext/../x"], "--neutron-external-network-name", id="network-name-path"),
]  # fmt: skip


@pytest.mark.parametrize(("options", "message"), FREE_TEXT)
def test_free_text_machine_settings_are_checked_by_kind(site, capsys, options, message):
    refused_in_one_line(site, capsys, ["machine-set", "C1", *options], message)


CLUSTER_TEXT = [
    pytest.param(["--debian-mirror", "x y"], "--debian-mirror: 'x y': expected a URL", id="mirror-space"),
    pytest.param(["--debian-mirror", "ftp://deb.debian.org/debian"], "expected an http:// or https:// URL", id="mirror-ftp"),
    pytest.param(["--debian-mirror", "file:///etc/passwd"], "expected an http:// or https:// URL", id="mirror-file"),
    pytest.param(["--debian-mirror", "http://x'y"], "no quote", id="mirror-quote"),
    pytest.param(["--debian-mirror", "http://mirror:99999/debian"], "valid port", id="mirror-port"),
    pytest.param(["--debian-mirror", ""], "expected an http:// or https:// URL", id="mirror-empty"),
    pytest.param(["--haproxy-custom-url", "http://"], "with a host", id="haproxy-no-host"),
    pytest.param(["--debian-release", "bookworm main"], "--debian-release: 'bookworm main': expected one word", id="release-space"),
    pytest.param(["--region-name", "Region\nOne"], "--region-name", id="region-newline"),
    pytest.param(["--amp-secgroup-list", "abc"], "expected comma-separated lowercase UUIDs", id="uuid-list"),
    pytest.param(["--cpu-model-extra-flags", "pcid ssbd"], "--cpu-model-extra-flags: 'pcid ssbd'", id="flags-space"),
]  # fmt: skip


@pytest.mark.parametrize(("options", "message"), CLUSTER_TEXT)
def test_free_text_cluster_settings_are_checked_by_kind(site, capsys, options, message):
    refused_in_one_line(site, capsys, ["cluster-set", "cl1", *options], message)


def test_well_formed_text_settings_are_taken(site, capsys):
    code = main(["--json", "machine-set", "C1", "--dest-blk", "nvme0n1", "--raid-dev0", "md0", "--serial-console-device", "ttyAMA0",
                 "--notes", "rack 12 — spare PSU", "--cpu-model", "Skylake-Server-IBRS"], store_factory=lambda: site)  # fmt: skip
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert code == 0
    assert (settings["dest_blk"], settings["raid_dev0"], settings["serial_console_device"]) == ("nvme0n1", "md0", "ttyAMA0")
    assert settings["notes"] == "rack 12 — spare PSU"
    code = main(["--json", "cluster-set", "cl1", "--debian-mirror", "https://mirror.example.com:8443/debian", "--cpu-model-extra-flags",
                 "+pcid,-ssbd", "--amp-secgroup-list", "0b3f7c1e-8a4d-4c2b-9e6f-1a2b3c4d5e6f,1b3f7c1e-8a4d-4c2b-9e6f-1a2b3c4d5e6f",
                 "--haproxy-custom-url", "http://10.0.0.1/x?y=1"], store_factory=lambda: site)  # fmt: skip
    assert code == 0, capsys.readouterr().err
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert settings["debian_mirror"] == "https://mirror.example.com:8443/debian"
    code = main(["--json", "machine-set", "C1", "--serial-console-device", "none", "--unset", "notes"], store_factory=lambda: site)
    assert code == 0 and json.loads(capsys.readouterr().out)["settings"]["notes"] == ""


BMC = [
    pytest.param({"user": "root\nadmin"}, "invalid BMC user 'root\\nadmin'", id="user-newline"),
    pytest.param({"user": "x" * 17}, "invalid BMC user", id="user-too-long"),
    pytest.param({"user": "r\u00f6\u00f6t"}, "invalid BMC user", id="user-non-ascii"),
    pytest.param({"password": "calvin\nrm -rf"}, "invalid BMC password:", id="password-newline"),
    pytest.param({"password": "p" * 21}, "invalid BMC password:", id="password-too-long"),
    pytest.param({"password": "c\x1balvin"}, "invalid BMC password:", id="password-escape"),
    pytest.param({"port": "٦٢٣"}, "invalid BMC port", id="port-arabic-digits"),
    pytest.param({"port": "0"}, "outside 1..65535", id="port-zero"),
]


@pytest.mark.parametrize(("change", "message"), BMC)
def test_bmc_user_password_and_port_are_checked_and_never_echo_a_password(site, change, message):
    client = Client(site, token=tokens.create(site, "ops", NOW))
    good = {"use": "no", "address": "10.8.0.9", "port": "623", "user": "root", "password": "calvin"}
    body = {**good, **change}
    before = state_files(site)
    status, reply = client.call("PUT", "/api/v1/machines/C2/bmc", body)
    assert status == 400, reply
    assert message in reply["message"] and "\n" not in reply["message"]
    assert "calvin" not in reply["message"] and "ppppp" not in reply["message"]
    assert state_files(site) == before
    status, reply = client.call("PUT", "/api/v1/machines/C2/bmc", good)
    assert status == 200, reply


HOSTILE_TEXT = ("csi \x9b2J", "esc \x1b[31mred", "line\u2028sep", "bidi \u202eevil", "zero\u200bwidth", "bell\x07", "nbsp\xa0x")


def hostile_machine(store):
    """C1 as a hand-edited (or pre-upgrade) state file may hold it: text the report parser would strip now."""
    from dataclasses import replace

    with store.machine_lock(["C1"]):
        machine = store.get(Machine, "C1")
        hardware = replace(machine.hardware, product_name="PowerEdge\x9b2J\u202eR640")
        store.write_machine(replace(machine, hardware=hardware, report_notes=HOSTILE_TEXT))


def unsafe_characters(text, allowed="\n"):
    return sorted({c for c in text if not c.isprintable() and c not in allowed})


def test_records_and_tables_escape_control_and_format_characters_on_a_terminal(site):
    from oci.cli.output import Column, Message, Record, Table, render_record, render_table

    hostile_machine(site)
    data = machines.show(site, "C1")
    shown = render_record(Record(data), terminal=True)
    assert unsafe_characters(shown) == []
    for escaped in ("csi \\x9b2J", "esc \\x1b[31mred", "line\\u2028sep", "bidi \\u202eevil", "zero\\u200bwidth", "bell\\x07"):
        assert escaped in shown
    assert "PowerEdge\\x9b2J\\u202eR640" in shown
    assert "\x9b" in render_record(Record(data), terminal=False)  # a pipe gets the data unchanged, for scripts

    table = render_table(Table([{"a": "x\x9by", "b": 1}, {"a": "plain", "b": 2}], [Column("a", "name"), Column("b", "n")]), terminal=True)
    assert table.splitlines() == ["name    n", "x\\x9by  1", "plain   2"]  # escaped before the widths are measured

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    emit(Message("two\tcolumns\nsecond line \x9b"), as_json=False, out=out)
    assert out.getvalue() == "two\tcolumns\nsecond line \\x9b\n"
    out = Terminal()
    emit(Record(data), as_json=True, out=out)
    assert out.getvalue().isascii() and unsafe_characters(out.getvalue()) == []  # json.dumps escapes every one of them
    assert json.loads(out.getvalue())["report_notes"] == list(HOSTILE_TEXT)


def run_on_a_terminal(argv, env):
    """Run a command with its stdout on a pseudo-terminal, as an operator's shell does; its output."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    try:
        while select.select([master], [], [], 60)[0]:  # a guard only: the command ends in well under a second
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, b"".join(chunks).decode(), err.decode()


def test_machine_show_on_a_real_terminal_shows_escapes_not_controls(site):
    hostile_machine(site)
    env = {**os.environ, "OCI_STATE_DIR": str(site.root)}
    env.pop("OCI_CONFIG", None)
    code, shown, err = run_on_a_terminal([str(REPO / "bin" / "ocicli"), "machine-show", "C1"], env)
    assert code == 0, err
    assert unsafe_characters(shown, allowed="\r\n") == []  # the terminal's line discipline adds the \r
    assert "csi \\x9b2J" in shown and "line\\u2028sep" in shown and "bidi \\u202eevil" in shown
    code, shown, err = run_on_a_terminal([str(REPO / "bin" / "ocicli"), "--json", "machine-show", "C1"], env)
    assert code == 0 and shown.isascii() and "\\u009b2J" in shown


def test_notes_are_capped_like_agent_errors_and_the_machine_file_stays_small(store):
    from oci.report import v1

    body = report_body("C1", **{f"u{i}": 0 for i in range(40_000)})  # with the rest, just under the 1 MiB body limit
    body["errors"] = [f"collector {i} failed" for i in range(500)]
    body["disks"] = [{"name": "../x", "size_bytes": "y" * 100} for i in range(v1.MAX_ENTRIES)]
    body["system"] = {"manufacturer": "M" * 10_000}
    status, reply = Client(store).post_json("/api/v1/report", body)
    assert status == 200
    notes = reply["data"]["notes"]
    assert len(notes) == v1.MAX_NOTES
    assert notes[: v1.MAX_UNKNOWN_KEYS] == [f"unknown key 'u{i}' ignored" for i in sorted(range(40_000), key=str)[:10]]
    assert notes[v1.MAX_UNKNOWN_KEYS] == f"{40_000 - v1.MAX_UNKNOWN_KEYS} more unknown keys ignored"
    assert f"agent: {500 - v1.MAX_AGENT_ERRORS} more errors" in notes
    assert notes[-1] == f"{v1.MAX_UNKNOWN_KEYS + 1 + v1.MAX_AGENT_ERRORS + 1 + v1.MAX_ENTRIES - v1.MAX_NOTES + 1} more notes"
    assert max(len(n) for n in notes) < 200
    machine = store.get(Machine, "C1")
    assert machine.hardware.manufacturer == "M" * v1.MAX_TEXT
    assert (store.root / "machines" / "C1.yaml").stat().st_size < 16_000


def test_report_lists_beyond_their_bound_are_refused(store):
    from oci.report import v1

    body = report_body("C1", nics=[{"name": f"eth{i}", "mac": "52:54:00:12:34:56"} for i in range(v1.MAX_ENTRIES + 1)])
    status, reply = Client(store).post_json("/api/v1/report", body)
    assert status == 400 and f"more than {v1.MAX_ENTRIES}" in reply["message"]
    assert not (store.root / "machines").exists()


def test_a_path_that_is_not_utf8_is_a_json_400(site):
    client = Client(site, token=tokens.create(site, "ops", NOW))
    not_utf8 = "\ud800".encode("utf-8", "surrogatepass").decode("latin-1")  # what the server hands over for %ED%A0%80
    status, headers, payload = client.request("GET", f"/api/v1/clusters/{not_utf8}/problems", token=client.token, scheme="https")
    assert (status, headers["Content-Type"]) == (400, "application/json")
    assert json.loads(payload)["message"] == "invalid request path: it is not UTF-8"


def test_error_lines_are_escaped_on_a_terminal_too(monkeypatch):
    from oci.errors import NotFound

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    def failing_store():
        raise NotFound("no machine named 'x\x9b2Jy'", hint="a server's message may quote anything \u2028")

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["machine-list"], store_factory=failing_store) == 1
    assert terminal.getvalue() == ("ocicli: error: no machine named 'x\\x9b2Jy' (a server's message may quote anything \\u2028)\n")
