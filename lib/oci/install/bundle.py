"""The bundle: what the master hands a node to install it, as one uncompressed tar archive.

``plan.json`` holds the plan; ``target/<path>`` members are files written onto the installed system with
their mode (0600 for keys). It holds only this node's material (its keys and certificates, the CA chain,
its network and hosts files), never another node's or a CA's private key; the installer deletes it once
read. Unpacking checks every member before returning: regular files under ``target/`` with plain relative
names (no ``..``, no links, no devices), bounded in number and size.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass

from oci.errors import InvalidInput
from oci.install.plan import InstallPlan, from_json, to_json
from oci.netconf.target import check_relative

PLAN_MEMBER = "plan.json"
TARGET_PREFIX = "target/"
MAX_MEMBERS = 2000
MAX_BYTES = 64 << 20
MODES = (0o600, 0o640, 0o644, 0o700, 0o750, 0o755)


@dataclass(frozen=True, slots=True)
class BundleFile:
    data: bytes
    mode: int = 0o644


def pack(plan: InstallPlan, files: Mapping[str, BundleFile]) -> bytes:
    """The bundle's bytes: the plan and ``files`` (relative path on the target -> content and mode).
    Deterministic: the same plan and files give the same bytes."""
    for relative, item in files.items():
        check_relative(relative)
        if item.mode not in MODES:
            raise InvalidInput(f"bundle file {relative}: mode {item.mode:o} is not one of " + ", ".join(f"{m:o}" for m in MODES))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        members = {PLAN_MEMBER: BundleFile(json.dumps(to_json(plan), indent=1, sort_keys=True).encode() + b"\n", 0o600)}
        members.update({TARGET_PREFIX + relative: item for relative, item in sorted(files.items())})
        for name, item in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime, info.uname, info.gname = len(item.data), item.mode, 0, "root", "root"
            tar.addfile(info, io.BytesIO(item.data))
    data = buffer.getvalue()
    if len(data) > MAX_BYTES:
        too_big = f"the bundle would be {len(data)} bytes, over the {MAX_BYTES} limit"
        raise InvalidInput(too_big, hint="the operator's extra files are too big")
    return data


def unpack(data: bytes) -> tuple[InstallPlan, dict[str, BundleFile]]:
    """The plan and files of a bundle; InvalidInput (one line) for anything a master would not have packed."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"bundle of {len(data)} bytes is over the {MAX_BYTES} limit")
    plan: InstallPlan | None = None
    files: dict[str, BundleFile] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for count, member in enumerate(tar, 1):
                if count > MAX_MEMBERS:
                    raise InvalidInput(f"bundle has more than {MAX_MEMBERS} members")
                if not member.isfile():
                    raise InvalidInput(f"bundle member {member.name!r} is not a regular file")
                extracted = tar.extractfile(member)
                assert extracted is not None
                content = extracted.read()
                if member.name == PLAN_MEMBER:
                    try:
                        plan = from_json(json.loads(content), "bundle plan.json")
                    except ValueError as exc:
                        raise InvalidInput(f"bundle plan.json is not JSON: {exc}") from None
                elif member.name.startswith(TARGET_PREFIX):
                    relative = member.name[len(TARGET_PREFIX) :]
                    check_relative(relative)
                    if member.mode not in MODES:
                        raise InvalidInput(f"bundle member {member.name}: mode {member.mode:o} refused")
                    files[relative] = BundleFile(content, member.mode)
                else:
                    raise InvalidInput(f"unexpected bundle member {member.name!r}")
    except tarfile.TarError as exc:
        raise InvalidInput(f"not a bundle: {exc}") from None
    if plan is None:
        raise InvalidInput("bundle has no plan.json")
    return plan, files
