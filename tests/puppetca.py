"""A Puppet CA for the tests that issue agent certificates (installs, removals): made once per session with the
real ``puppetserver ca setup`` (through ``oci-puppet-setup``'s code), copied for each test that asks for it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from oci.config import Config
from oci.puppet import server
from oci.store import Store


@pytest.fixture(scope="session")
def puppet_ca_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("puppetserver") is None:
        pytest.fail("puppetserver is not installed: run make deps")
    base = tmp_path_factory.mktemp("puppet-ca")
    confdir = base / "puppet"
    store = Store(base / "state", lock_timeout=10, config=Config(state_dir=base / "state", puppet_confdir=confdir))
    server.setup(store, "puppet.test", vardir=base / "var")
    return confdir


@pytest.fixture
def puppet_ca(puppet_ca_template: Path, tmp_path: Path) -> Path:
    """A Puppet confdir with a CA of its own (``[puppet] confdir`` of the test's configuration)."""
    confdir = tmp_path / "puppet"
    shutil.copytree(puppet_ca_template, confdir, symlinks=True)
    return confdir
