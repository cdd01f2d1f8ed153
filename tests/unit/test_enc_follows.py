"""The ENC is one view derived from the state: whatever an operation or a report writes, the classifications
follow at its end, with no ENC call in the operation; gathering the facts writes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from ipaddress import IPv4Address
from typing import Any

import pytest

from conftest import NOW, state_files
from oci import operations
from oci.enc import refresh
from oci.model import Cluster, ClusterSecrets, Enrolment, Machine, MachineStatus, Network, PuppetStatus
from oci.operations import Operation, Param, execute
from oci.service import status
from oci.store import Store

CONTROLLER = "cl1-controller-1.example.com"


def compute_class(store: Store, host: str) -> dict[str, Any]:
    return refresh.show(store, host)["classes"]["oci::compute"]  # type: ignore[no-any-return]


def halve_cpu_allocation(store: Store, machine: str) -> dict[str, Any]:
    """A mutating operation the real table does not have, written straight through the store: no ENC code."""
    with store.machine_lock([machine]):
        found = store.get(Machine, machine)
        ratio = found.settings.get("cpu_allocation_ratio", 16.0) / 2  # settings hold what was set; 16 is the default
        store.write_machine(replace(found, settings={**found.settings, "cpu_allocation_ratio": ratio}))
    return {"machine": machine, "cpu_allocation_ratio": ratio}


def test_a_new_mutating_operation_is_followed_by_the_enc(site: Store, discover: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    discover("C3", address="192.168.100.22")
    execute(site, "machine_add", {"serial": "C3", "cluster": "cl1", "role": "compute", "location": "loc1"})
    host = "cl1-compute-1.example.com"
    assert compute_class(site, host)["cpu_allocation_ratio"] == 16.0
    new = Operation("machine_halve_cpu", "POST", "/machines/<machine>/halve-cpu", halve_cpu_allocation, (Param("machine", "str", True),))
    monkeypatch.setattr(operations, "OPERATIONS", {**operations.OPERATIONS, new.name: new})  # a scratch table
    assert new.mutating

    assert execute(site, "machine_halve_cpu", {"machine": "C3"}) == {"machine": "C3", "cpu_allocation_ratio": 8.0}

    assert compute_class(site, host)["cpu_allocation_ratio"] == 8.0


def test_an_operation_renders_each_touched_cluster_once_at_its_end(site: Store, discover: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []
    real = refresh.refresh

    def counting(store: Store, cluster: str) -> dict[str, Any]:
        rendered.append(cluster)
        return real(store, cluster)

    monkeypatch.setattr(refresh, "refresh", counting)
    # machine_add commits, issues the host's certificate, then the ENC is rendered: once, with the certificate.
    execute(site, "machine_add", {"serial": "C2", "cluster": "cl1", "role": "compute", "location": "loc1"})
    assert rendered == ["cl1"]
    assert "ssl_certificate" in refresh.lookup(site, "cl1-compute-1.example.com").decode()  # type: ignore[union-attr]
    rendered.clear()
    execute(site, "machine_list", {})
    execute(site, "location_create", {"name": "loc2", "swift_region": "r1"})  # in no classification
    assert rendered == []


def test_a_failed_operation_renders_nothing(site: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = state_files(site)
    with pytest.raises(Exception, match="nothing to change"):
        execute(site, "cluster_set", {"name": "cl1"})
    assert state_files(site) == before


def test_deleting_a_cluster_removes_its_enc_files(site: Store) -> None:
    execute(site, "machine_remove", {"machine": "C1"})
    assert refresh.lookup(site, CONTROLLER) is None
    execute(site, "network_remove", {"name": "net1"})
    execute(site, "cluster_delete", {"name": "cl1"})
    assert site.list_blobs(refresh.FOLDER, refresh.folder("cl1")) == []


def test_gathering_facts_writes_nothing(site: Store) -> None:
    secrets = dict(site.get(ClusterSecrets, "cl1").values)
    del secrets["nova_db"]  # as a cluster made by a release that had no such secret
    with site.topology_lock():
        tx = site.transaction()
        tx.put(ClusterSecrets("cl1", secrets))
        tx.commit()
    before = state_files(site)

    facts = refresh.facts(site, "cl1")
    refresh.render(site, "cl1")

    assert state_files(site) == before
    assert "nova_db" not in facts.secrets
    refresh.refresh(site, "cl1")  # the refresh completes them, once, by design
    completed = site.get(ClusterSecrets, "cl1").values
    assert completed["nova_db"] and {k: completed[k] for k in secrets} == secrets


def test_a_status_report_re_renders_only_when_the_classification_may_change(
    site: Store, discover: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    execute(site, "machine_add", {"serial": "C2", "cluster": "cl1", "role": "compute", "location": "loc1"})
    rendered: list[str] = []
    real = refresh.refresh
    monkeypatch.setattr(refresh, "refresh", lambda store, cluster: rendered.append(cluster) or real(store, cluster))
    status.record(site, "C2", "installed", IPv4Address("192.168.101.3"), NOW)  # a compute: the bulk of reports
    assert rendered == []
    status.record(site, "C1", "installed", IPv4Address("192.168.101.2"), NOW)  # a controller: the bootstrap reads it
    assert rendered == ["cl1"]
    rendered.clear()
    status.record(site, "C1", "installed", IPv4Address("192.168.101.2"), NOW)  # a repeated report changes nothing
    assert rendered == []


def test_a_hardware_report_with_new_disks_reaches_the_classification(site: Store, discover: Any) -> None:
    execute(site, "machine_add", {"serial": "C2", "cluster": "cl1", "role": "cephosd", "location": "loc1"})
    host = "cl1-cephosd-1.example.com"
    assert refresh.show(site, host)["classes"]["oci::cephosd"]["block_devices"] == []
    disks = [{"name": "vda", "size_bytes": 21474836480}, {"name": "vdb", "size_bytes": 21474836480}]
    discover("C2", address="192.168.100.21", when=datetime(2026, 1, 2, tzinfo=UTC), disks=disks)
    assert refresh.show(site, host)["classes"]["oci::cephosd"]["block_devices"] == ["/dev/vdb"]


def machine(role: str | None, cluster: str = "cl1", **changes: Any) -> Machine:
    enrolment = Enrolment(cluster, role, "loc1", f"{cluster}-{role}-1.example.com") if role else None
    return replace(Machine("S1", MachineStatus.LIVE, NOW, enrolment=enrolment), **changes)


@pytest.mark.parametrize(
    ("before", "after", "touched"),
    [
        (None, Cluster("cl1", "example.com"), {"cl1"}),
        (Cluster("cl1", "example.com"), None, {"cl1"}),
        (None, ClusterSecrets("cl1", {}), {"cl1"}),
        (machine(None), machine("compute"), {"cl1"}),
        (machine("compute"), machine(None), {"cl1"}),
        (machine("compute", "cl1"), machine("compute", "cl2"), {"cl1", "cl2"}),
        (machine(None), machine(None, status=MachineStatus.INSTALLING), set()),
        (machine("compute"), machine("compute", status=MachineStatus.INSTALLED), set()),
        (machine("controller"), machine("controller", status=MachineStatus.INSTALLED), {"cl1"}),
        (machine("controller"), machine("controller", puppet_status=PuppetStatus.SUCCESS), {"cl1"}),
        (machine("compute"), machine("compute", settings={"nested_virt": "yes"}), {"cl1"}),
        (machine("compute"), machine("compute", host_key="ssh-ed25519 AAAA"), set()),
    ],
)
def test_which_clusters_a_change_touches(before: Any, after: Any, touched: set[str]) -> None:
    assert refresh.clusters_touched(before, after) == touched


def test_a_network_change_touches_the_clusters_it_leaves_and_joins() -> None:
    free = Network("n1", IPv4Address("10.0.0.0"), 24, "loc1", public=False)
    assert refresh.clusters_touched(free, replace(free, cluster="cl1", role="all")) == {"cl1"}
    assert refresh.clusters_touched(replace(free, cluster="cl1", role="all"), free) == {"cl1"}
    assert refresh.clusters_touched(free, replace(free, mtu=9000)) == set()
