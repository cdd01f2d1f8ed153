"""The console's keys: ssh's escape on an attached console, and --keys' backslash escapes."""

from __future__ import annotations

import pytest

from oci.bmc import EscapeReader
from oci.cli.bmc import console_keys


@pytest.mark.parametrize(
    ("chunks", "sent", "left"),
    [
        ([b"ls\r"], b"ls\r", False),
        ([b"~."], b"", True),  # the very first key is at a line start
        ([b"ls\r~.more"], b"ls\r", True),  # what follows the escape is not sent
        ([b"ls\r", b"~", b"."], b"ls\r", True),  # the escape split across reads
        ([b"a~.b"], b"a~.b", False),  # not at a line start
        ([b"\n~~x"], b"\n~x", False),  # ~~ sends one ~
        ([b"\r~x"], b"\r~x", False),  # ~ then anything else: both go
        ([b"\r~~."], b"\r~.", False),  # ~~ then . is no escape (the line no longer starts there)
    ],
)
def test_escape(chunks, sent, left):
    reader = EscapeReader()
    out = b"".join(reader.feed(chunk) for chunk in chunks if not reader.left)
    assert (out, reader.left) == (sent, left)


@pytest.mark.parametrize(
    ("typed", "keys"),
    [(r"root\r", "root\r"), (r"a\tb\nc", "a\tb\nc"), ("a\\\\r", "a\\r"), (r"\x", r"\x"), ("end\\", "end\\"), ("", "")],
)
def test_console_keys(typed, keys):
    assert console_keys(typed) == keys
