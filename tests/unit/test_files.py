"""The YAML emitter of state files reads back as what was written, and as PyYAML would read it."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from oci.store import files

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "yes",
            "No",
            "on",
            "OFF",
            "null",
            "~",
            "1e3",
            "0x1F",
            "12:30",
            "2026-11-25",
            "2026-11-25T12:00:00Z",
            "- a",
            "a: b",
            "#x",
            "'q'",
            '"q"',
            "",
            " lead",
            "trail ",
            "multi\nline",
            "é",
            "eno1",
            "sda",
            "10G",
        ]
    )  # fmt: skip
)
documents = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=12), c, max_size=5), max_leaves=40)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=12), documents, max_size=6) | st.lists(documents, max_size=5))
def test_round_trip(data):
    text = files.dump_yaml(data)
    assert files.load_yaml(text) == data
    assert yaml.safe_load(text) == data


def test_readable_output():
    text = files.dump_yaml({"serial": "C1", "hardware": {"disks": [{"name": "sda", "size_bytes": 1}], "nics": []}, "when": "2026-11-25"})
    assert text == 'hardware:\n  disks:\n  - name: sda\n    size_bytes: 1\n  nics: []\nserial: C1\nwhen: "2026-11-25"\n'
