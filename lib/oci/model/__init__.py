"""Typed, frozen models of everything OCI stores."""

from oci.model.hardware import Bmc, Cpu, Disk, Hardware, Memory, Nic, RaidDrive, StorageController
from oci.model.machine import Enrolment, Heartbeat, Machine, MachineStatus, Phase, PhaseChange, PuppetStatus
from oci.model.topology import (
    BUILTIN_ROLES,
    SPECIAL_ROLES,
    Allocation,
    AllocationKind,
    Cluster,
    ClusterSecrets,
    Location,
    Network,
    NetworkRole,
    Role,
    SwiftRegion,
    Token,
)

__all__ = [
    "BUILTIN_ROLES",
    "SPECIAL_ROLES",
    "Allocation",
    "AllocationKind",
    "Bmc",
    "Cluster",
    "ClusterSecrets",
    "Cpu",
    "Disk",
    "Enrolment",
    "Hardware",
    "Heartbeat",
    "Location",
    "Machine",
    "MachineStatus",
    "Memory",
    "Network",
    "NetworkRole",
    "Nic",
    "Phase",
    "PhaseChange",
    "PuppetStatus",
    "RaidDrive",
    "Role",
    "StorageController",
    "SwiftRegion",
    "Token",
]
