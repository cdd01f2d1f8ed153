"""The listing's views kept current by the writers: each machine file's writer leaves the listing's view of it
beside it, so the first listing after many writes (a mass discovery) decodes no YAML; a view that no longer
matches its file (written by a process without the view, or torn) is never believed."""

from __future__ import annotations

import json
import os

from oci.service import machines
from oci.service.views import machine_views
from oci.store import Store


def decodes(store, monkeypatch) -> list[str]:
    seen: list[str] = []
    real = Store._decode

    def counting(self, kind, path, raw):
        seen.append(path.stem)
        return real(self, kind, path, raw)

    monkeypatch.setattr(Store, "_decode", counting)
    return seen


def test_the_first_listing_after_many_reports_decodes_nothing(store, discover, monkeypatch):
    for i in range(30):
        discover(f"C{i:02d}", address=f"192.168.100.{20 + i}")
    (store.root / "cache" / "machine-views.json").unlink(missing_ok=True)
    seen = decodes(store, monkeypatch)
    fresh = Store(store.root, lock_timeout=10, config=store.config)  # another process: nothing decoded in memory
    views = machine_views(fresh)
    assert len(views) == 30 and views["C07"]["serial"] == "C07"
    assert seen == []
    assert [row["serial"] for row in machines.list_(fresh)][:2] == ["C00", "C01"]


def test_a_view_that_does_not_match_its_file_is_computed_again(store, discover, monkeypatch):
    discover("C1")
    discover("C2", address="192.168.100.21")
    machine_views(store)
    views = store.root / "cache" / "machine-views"
    entry = json.loads((views / "C1.json").read_text())
    entry["view"]["status"] = "forged"
    entry["stamp"][1] -= 1  # an older file's view
    (views / "C1.json").write_text(json.dumps(entry))
    (views / "C2.json").write_text('{"version": ')  # torn
    (store.root / "cache" / "machine-views.json").unlink()
    seen = decodes(store, monkeypatch)
    listed = machine_views(Store(store.root, lock_timeout=10, config=store.config))
    assert sorted(seen) == ["C1", "C2"] and listed["C1"]["status"] == "live"


def test_a_destroyed_machine_s_view_goes_with_it(store, discover):
    discover("C1")
    assert os.path.exists(store.root / "cache" / "machine-views" / "C1.json")
    machines.destroy(store, "C1")
    assert not os.path.exists(store.root / "cache" / "machine-views" / "C1.json")
    assert machine_views(store) == {}
