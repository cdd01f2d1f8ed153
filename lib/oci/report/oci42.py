"""The OCI 42 agent's report body (reference §3.4), translated to schema version 1.

Existing OCI live images POST this to ``/oci/report.php`` every 30 s. Every scalar is a JSON string there;
``machine`` and ``memory`` are one-element lists. The translation only renames and regroups keys: the v1
parser then applies the same per-entry validation to both.
"""

from __future__ import annotations

from typing import Any

from oci.errors import InvalidInput


def _first(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if isinstance(value, list):
        value = value[0] if value else {}
    if not isinstance(value, dict):
        raise InvalidInput(f"report: '{key}' must be a list holding one object")
    return value


def _list(body: dict[str, Any], key: str) -> list[Any]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"report: '{key}' must be a list")
    return value


def _rename(items: list[Any], mapping: dict[str, str]) -> list[Any]:
    return [{new: item.get(old) for old, new in mapping.items()} if isinstance(item, dict) else item for item in items]


def to_v1(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput(f"report: expected a JSON object, got {type(body).__name__}")
    machine = _first(body, "machine")
    memory = _first(body, "memory")
    if "serial" not in machine:
        raise InvalidInput("report: 'machine[0].serial' is missing")
    return {
        "version": 1,
        "serial": machine.get("serial"),
        "system": {
            "manufacturer": machine.get("system_manufacturer"),
            "product_name": machine.get("productname"),
            "bios_version": machine.get("bios_version"),
            "lifecycle_version": machine.get("dell_lifecycle_version"),
            "uefi": machine.get("boot_uefi"),
            "secure_boot": machine.get("secure_boot"),
            "sorted_disk_names": machine.get("use_oci_sort_dev"),
        },
        "cpu": {
            "vendor": machine.get("cpu_vendor"),
            "model": machine.get("cpu_model_name"),
            "sockets": machine.get("cpu_sockets"),
            "cores_per_socket": machine.get("cpu_core_per_socket"),
            "threads": machine.get("cpu_threads"),
            "mhz": machine.get("cpu_mhz"),
        },
        "memory": {
            "total_mb": memory.get("size"),
            "dimm_type": memory.get("type"),
            "speed": memory.get("speed"),
            "manufacturer": memory.get("manufacturer"),
        }
        if memory
        else None,
        "disks": _rename(_list(body, "blockdevices"), {"name": "name", "realdev": "realdev", "size": "size_bytes", "model": "model"}),
        "raid_drives": _rename(
            _list(body, "phys-blockdevices"), {"slot": "slot", "model": "model", "serial": "serial", "size": "size_bytes", "state": "state"}
        ),
        "nics": _rename(
            _list(body, "interfaces"),
            {
                "name": "name",
                "macaddr": "mac",
                "max_speed": "speed_mbps",
                "driver": "driver",
                "firmware_version": "firmware",
                "switch_hostname": "switch_name",
                "switchport_name": "switch_port",
            },
        ),
        "storage_controllers": _rename(
            _list(body, "blkdev_ctrl"),
            {"hwid": "id", "vendor": "vendor", "product": "product", "ctrl_type": "kind", "firmware_version": "firmware"},
        ),
        "bmc": {"address": machine.get("ipmi_detected_ip"), "firmware": machine.get("ipmi_firmware_version")},
    }
