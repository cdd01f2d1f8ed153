"""The Puppet module's class signatures against what the ENC sends (pure Python, no Puppet): for every class
of the documents of representative clusters, every key sent is a declared parameter, every parameter without
a default is sent, and every declared parameter of every class of puppet-modules/oci is read somewhere (in
its own class as ``$name``, or from another class as ``$oci::class::name``). A key the ENC sends that no
class declares, a parameter nobody sends, or one nobody reads fails here before it reaches a Puppet run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from test_enc import SHAPES, build

from conftest import REPO
from oci.enc import refresh
from oci.enc.classify import ROLE_CLASS
from oci.service import machines, topology

MANIFESTS = REPO / "puppet-modules" / "oci" / "manifests"
# `class oci::x (` ... `) {` (or `define`, a defined type): one parameter a line, `Type $name` or
# `Type $name = default`, a comma after each.
_CLASS = re.compile(r"^(?:class|define) (?P<name>oci::[\w:]+)\s*(?:\((?P<params>.*?)^\))?\s*\{\n(?P<body>.*)^\}\s*\Z", re.M | re.S)
_PARAM = re.compile(r"^\s*(?P<type>\S.*?)\s+\$(?P<name>\w+)\s*(?:=\s*(?P<default>.+?))?\s*,\s*$")


@dataclass(frozen=True)
class Signature:
    name: str
    parameters: dict[str, str | None]  # name -> default (None: no default, the ENC must send it)
    body: str


def parse(path: Path) -> Signature:
    text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")) + "\n"
    found = _CLASS.search(text)
    assert found, f"{path}: no `class oci::... (...) {{ ... }}` nor `define oci::...`"
    parameters: dict[str, str | None] = {}
    for line in (found["params"] or "").splitlines():
        if line.strip():
            param = _PARAM.match(line)
            assert param, f"{path}: cannot read the parameter line {line!r}"
            parameters[param["name"]] = param["default"]
    return Signature(found["name"], parameters, found["body"])


def signatures() -> dict[str, Signature]:
    parsed = [parse(path) for path in sorted(MANIFESTS.rglob("*.pp"))]
    return {s.name: s for s in parsed}


def test_the_parser_reads_types_defaults_and_bodies(tmp_path):
    path = tmp_path / "x.pp"
    path.write_text("# a comment\nclass oci::x (\n  Enum['a', 'b'] $kind,\n  Array[String] $names = [],\n) {\n  notice($kind)\n}\n")
    assert parse(path) == Signature("oci::x", {"kind": None, "names": "[]"}, "  notice($kind)\n")
    path.write_text("class oci::y {\n}\n")
    assert parse(path) == Signature("oci::y", {}, "")


def test_every_declared_parameter_is_read():
    classes = signatures()
    everything = "\n".join(s.body for s in classes.values())
    unread = [
        f"{s.name}::{p}"
        for s in classes.values()
        for p in s.parameters
        if not re.search(rf"\$\{{?{p}\b", s.body) and not re.search(rf"\$\{{?{s.name}::{p}\b", everything)
    ]
    assert not unread, f"declared and never read: {unread}"


def test_every_class_the_enc_names_exists():
    classes = signatures()
    assert {*ROLE_CLASS.values(), "oci::generic", "oci::cluster"} <= set(classes)


def every_shape(store, discover):
    """ENC documents (host -> document) of one cluster of each shape of tests/unit/test_enc.py: together they
    have a host of every role with a class, and one of a role an operator created."""
    found = {}
    for number, shape in enumerate(sorted(SHAPES)):
        cluster = f"cl{number + 1}"
        build(store, discover, shape, cluster, 101 + number)
        if number == 0:  # the roles whose classes take no parameter, and one an operator created
            for i, role in enumerate(("dns", "tempest", "debmirror", "extra")):
                if role == "extra":
                    topology.role_create(store, role)
                discover(f"ODD{i}", address=f"192.168.100.{90 + i}")
                machines.add(store, f"ODD{i}", cluster, role, "loc1")
        found.update({host: refresh.show(store, host) for host in refresh.render(store, cluster)})
    return found


def test_what_the_enc_sends_matches_the_class_signatures(store, discover):
    classes = signatures()
    sent = set()
    for host, document in every_shape(store, discover).items():
        for name, values in document["classes"].items():
            declared = classes[name].parameters
            undeclared = set(values) - set(declared)
            assert not undeclared, f"{host}: {name} is sent {sorted(undeclared)}, which it does not declare"
            missing = {p for p, default in declared.items() if default is None} - set(values)
            assert not missing, f"{host}: {name} needs {sorted(missing)}, which the ENC does not send"
            sent.add(name)
    # Every class the ENC can name was checked (oci::galera and oci::rabbit are declared by other classes).
    assert sent == {*ROLE_CLASS.values(), "oci::generic", "oci::cluster"}
