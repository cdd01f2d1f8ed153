"""A writer keeps what it wrote as this process's decoded copy (no decoding of a file it just wrote): the copy
must be exactly what reading the file gives, down to how it is written again (an int is not a float)."""

from __future__ import annotations

from conftest import one_cluster
from oci.model import BmcAccess, Cluster, Machine, Network
from oci.model.codec import encode
from oci.service import bmcops, clusters, machines
from oci.store import Store
from oci.store.files import dump_yaml


def test_what_a_writer_keeps_is_what_a_reader_decodes(store, discover):
    one_cluster(store)
    for i in range(3):
        discover(f"C{i}", address=f"192.168.100.{20 + i}")
    machines.add_many(store, [{"serial": f"C{i}", "cluster": "cl1", "role": "compute", "location": "loc1"} for i in range(2)])
    machines.set_(store, "C0", {"disk_allocation_ratio": 3, "notes": "rack 4"}, [])  # an int for a float setting
    clusters.set_(store, "cl1", {"swift_replicas": 1}, [])
    bmcops.set_access(store, "C2", "yes", "10.0.0.5", "623", "admin", "secret")
    fresh = Store(store.root, lock_timeout=10, config=store.config)  # another process: it reads the files
    for model in (Machine, Cluster, Network, BmcAccess):
        for name in store.names(model):
            kept, read = store.get(model, name), fresh.get(model, name)
            assert dump_yaml(encode(kept)) == dump_yaml(encode(read)), (model.__name__, name)
