"""Which machine is network-booting: by the serial iPXE read from SMBIOS, else by a MAC address it
reported, else by the address its last report came from."""

from __future__ import annotations

import re
from ipaddress import IPv4Address

from oci import names
from oci.errors import InvalidInput
from oci.model import Machine
from oci.store import Store

_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


def find(store: Store, mac: str | None, serial: str | None, address: IPv4Address | None) -> Machine | None:
    if serial:
        try:
            machine = store.find(Machine, names.serial(serial))
        except InvalidInput:
            machine = None  # firmware serials can hold anything ("To Be Filled By O.E.M."): not ours to refuse
        if machine is not None:
            return machine
    wanted = mac.lower() if mac and _MAC.fullmatch(mac.lower()) else None
    if wanted is not None:
        machine = store.machine_by_mac(wanted)  # an index: one file, however many machines (store.py)
        if machine is not None:
            return machine
    return store.machine_by_address(address) if address is not None else None
