"""A cluster's secrets: made with the operating system's cryptographic generator at cluster-create, kept in
``secrets/<cluster>.yaml`` (mode 0600), and handed to each role only if that role needs them.

The reference made 93 (service, kind) pairs, some UUIDs with a non-cryptographic generator, and sent every
one of them to every controller; here the table below says who gets what, and the tests check it.
"""

from __future__ import annotations

import base64
import os
import secrets
import struct
import time
import uuid
from collections.abc import Callable, Mapping

SERVICES = ("keystone", "glance", "nova", "placement", "neutron", "cinder", "heat", "barbican", "octavia", "aodh", "gnocchi",
            "ceilometer", "designate", "manila", "magnum")  # fmt: skip


def password() -> str:
    return secrets.token_hex(32)


def fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def ceph_key() -> str:
    """A Ceph secret as ``ceph-authtool --gen-print-key`` makes it (type, creation time, length, 16 bytes)."""
    seconds = int(time.time())
    return base64.b64encode(struct.pack("<hIIh", 1, seconds, 0, 16) + os.urandom(16)).decode()


def random_uuid() -> str:
    return str(uuid.uuid4())  # uuid4 draws from os.urandom


def _generators() -> dict[str, Callable[[], str]]:
    table: dict[str, Callable[[], str]] = {}
    for service in SERVICES:
        table[f"{service}_db"] = password
        table[f"{service}_authtoken"] = password
        table[f"{service}_messaging"] = password
    table.update(
        {
            "keystone_admin": password,
            "keystone_fernet_0": fernet_key,
            "keystone_fernet_1": fernet_key,
            "keystone_credential_0": fernet_key,
            "keystone_credential_1": fernet_key,
            "mysql_root": password,
            "mysql_backup": password,
            "rabbitmq_cookie": password,
            "haproxy_stats": password,
            "metadata_proxy_shared_secret": password,
            "horizon_secret_key": password,
            "heat_encryption_key": lambda: secrets.token_hex(16),
            "neutron_vrrp": lambda: secrets.token_hex(4),
            "keepalived_vrrp": lambda: secrets.token_hex(4),  # VRRP authentication is 8 characters at most
            "swift_hash_path_prefix": password,
            "swift_hash_path_suffix": password,
            "swift_authtoken": password,
            "ceph_fsid": random_uuid,
            "ceph_libvirt_uuid": random_uuid,
            "ceph_admin_key": ceph_key,
            "ceph_mon_key": ceph_key,
            "ceph_mgr_key": ceph_key,
            "ceph_bootstrap_osd_key": ceph_key,
            "ceph_openstack_key": ceph_key,
        }
    )
    return table


GENERATORS = _generators()


def generate() -> dict[str, str]:
    return {name: make() for name, make in sorted(GENERATORS.items())}


def complete(existing: Mapping[str, str]) -> dict[str, str]:
    """The existing secrets plus any a newer release added (existing ones are never changed)."""
    return {**{name: make() for name, make in GENERATORS.items() if name not in existing}, **existing}


# Which role gets which secret: exactly those its class reads (tests/unit/test_puppet_signatures.py checks
# both ways). Anything not listed for a role is never in its hosts' ENC; a secret a later class needs is
# added here with the class parameter that reads it.
NEEDED_BY: dict[str, tuple[str, ...]] = {
    "controller": (
        "keystone_db",
        *(f"{s}_{k}" for s in ("glance", "placement", "nova", "neutron", "cinder", "heat") for k in ("db", "authtoken")),
        *(f"{s}_messaging" for s in ("nova", "neutron", "cinder", "heat")),
        "keystone_admin", "keystone_fernet_0", "keystone_fernet_1", "keystone_credential_0", "keystone_credential_1",
        "mysql_root", "rabbitmq_cookie", "metadata_proxy_shared_secret", "horizon_secret_key", "heat_encryption_key",
        "keepalived_vrrp", "swift_authtoken",
    ),
    "sql": ("mysql_root",),
    "messaging": ("rabbitmq_cookie",),
    "compute": ("nova_authtoken", "nova_messaging", "neutron_authtoken", "neutron_messaging", "placement_authtoken"),
    "network": ("neutron_messaging", "metadata_proxy_shared_secret"),
    "volume": ("cinder_db", "cinder_authtoken", "cinder_messaging"),
    "cephmon": ("ceph_fsid", "ceph_admin_key", "ceph_mon_key", "ceph_mgr_key", "ceph_bootstrap_osd_key"),
    "cephosd": ("ceph_fsid", "ceph_bootstrap_osd_key"),
    "swiftproxy": ("swift_authtoken", "swift_hash_path_prefix", "swift_hash_path_suffix"),
    "swiftstore": ("swift_hash_path_prefix", "swift_hash_path_suffix"),
}  # fmt: skip


def for_role(role: str, values: Mapping[str, str]) -> dict[str, str]:
    return {f"pass_{name}": values[name] for name in sorted(NEEDED_BY.get(role, ())) if name in values}
