"""In-band BMC configuration by the agent: the settings the master sent with its reply, applied with the
node's own ``ipmitool`` (through the local IPMI interface, so it works before the BMC has an address).

The settings are checked again here, since they become ipmitool arguments. The password is never logged:
a failing step is reported by its name and exit code, not by its command line.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Any

from oci.run import CommandError, run

LOG = logging.getLogger("oci-discover")
_USER = re.compile(r"[A-Za-z0-9._-]{1,16}")
_PASSWORD = re.compile(r"[A-Za-z0-9]{8,20}")

Runner = Callable[[Sequence[str]], None]


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class BmcSettings:
    channel: int
    user_id: int
    user: str
    password: str
    address: IPv4Address
    netmask: IPv4Address
    gateway: IPv4Address | None
    vlan: int | None

    @classmethod
    def parse(cls, data: Any) -> BmcSettings:
        if not isinstance(data, dict):
            raise SettingsError("BMC settings: expected an object")
        try:
            settings = cls(
                channel=_int(data["channel"], 1, 15, "channel"),
                user_id=_int(data["user_id"], 2, 63, "user_id"),
                user=_match(_USER, data["user"], "user"),
                password=_match(_PASSWORD, data["password"], "password"),
                address=IPv4Address(data["address"]),
                netmask=IPv4Address(data["netmask"]),
                gateway=IPv4Address(data["gateway"]) if data.get("gateway") else None,
                vlan=_int(data["vlan"], 1, 4094, "vlan") if data.get("vlan") is not None else None,
            )
        except KeyError as exc:
            raise SettingsError(f"BMC settings: missing {exc.args[0]!r}") from None
        except ValueError as exc:
            raise SettingsError(f"BMC settings: {exc}") from None
        return settings


def _int(value: object, low: int, high: int, what: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise SettingsError(f"BMC settings: {what} must be an integer from {low} to {high}")
    return value


def _match(pattern: re.Pattern[str], value: object, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise SettingsError(f"BMC settings: invalid {what}")
    return value


def steps(s: BmcSettings) -> list[tuple[str, list[str], bool]]:
    """(name, ipmitool arguments, required) in order: the user first, so the BMC is never reachable at
    its new address without OCI's credentials; then the LAN settings; then what not every BMC supports."""
    ch, uid = str(s.channel), str(s.user_id)
    out = [
        ("user name", ["user", "set", "name", uid, s.user], True),
        ("user password", ["user", "set", "password", uid, s.password], True),
        ("user privilege", ["channel", "setaccess", ch, uid, "link=on", "ipmi=on", "callin=on", "privilege=4"], True),
        ("user enable", ["user", "enable", uid], True),
        ("static address", ["lan", "set", ch, "ipsrc", "static"], True),
        ("address", ["lan", "set", ch, "ipaddr", str(s.address)], True),
        ("netmask", ["lan", "set", ch, "netmask", str(s.netmask)], True),
    ]
    if s.gateway is not None:
        out.append(("gateway", ["lan", "set", ch, "defgw", "ipaddr", str(s.gateway)], True))
    out += [
        ("vlan", ["lan", "set", ch, "vlan", "id", str(s.vlan) if s.vlan else "off"], True),
        ("lan access", ["lan", "set", ch, "access", "on"], True),
        ("gratuitous ARP", ["lan", "set", ch, "arp", "generate", "on"], False),
        ("serial over LAN", ["sol", "payload", "enable", ch, uid], False),
    ]
    return out


def apply(settings: BmcSettings, ipmitool: Sequence[str] = ("ipmitool",), timeout: float = 30) -> list[str]:
    """Run every step; the names of the optional steps the BMC refused. Raises CommandError (without the
    command line) when a required step fails: the BMC is then left as far as it got, and the next reply
    from the master asks again."""
    skipped = []
    for name, args, required in steps(settings):
        try:
            run([*ipmitool, *args], timeout=timeout)
        except CommandError as exc:
            if required:
                raise CommandError([*ipmitool[:1], f"<{name}>"], exc.returncode) from None
            skipped.append(name)
    return skipped


class Configurator:
    """Applies the settings a reply carries, once per distinct settings (a failure is retried only after
    ``retry_after`` seconds, not at every report)."""

    def __init__(self, ipmitool: Sequence[str] = ("ipmitool",), now: Callable[[], float] | None = None, retry_after: float = 600) -> None:
        self.ipmitool = list(ipmitool)
        self.now = now or time.monotonic
        self.retry_after = retry_after
        self._done: dict[BmcSettings, float | None] = {}  # settings -> when it failed (None: applied)

    def __call__(self, reply: dict[str, Any]) -> None:
        if "bmc" not in reply:
            return
        try:
            settings = BmcSettings.parse(reply["bmc"])
        except SettingsError as exc:
            LOG.error("%s", exc)
            return
        if settings in self._done:
            failed = self._done[settings]
            if failed is None or self.now() - failed < self.retry_after:
                return
        LOG.info("configuring the BMC: %s/%s on channel %d, user %s", settings.address, settings.netmask, settings.channel, settings.user)
        try:
            skipped = apply(settings, self.ipmitool)
        except CommandError as exc:
            LOG.error("BMC configuration stopped: %s", exc.message)
            self._done[settings] = self.now()
            return
        self._done[settings] = None
        LOG.info("BMC configured%s", f" (not supported here: {', '.join(skipped)})" if skipped else "")
