# openstack-cluster-installer — developer entry points.
#   make poc     the main job on an embedded default (installs what it needs)
#   make check   every test (installs what it needs)
#   make bench   the benchmarks in bench/
# Run as root on Debian 12: missing Debian packages are installed with apt-get.

SHELL := /bin/bash
PYTHON := /usr/bin/python3
VENV := .venv
VPY := $(VENV)/bin/python
# Debian packages the code runs against (the versions Debian 12 ships), and what the tests need.
RUNTIME_DEBS := python3-bottle python3-waitress python3-yaml python3-jinja2 python3-cryptography \
	python3-requests python3-debian python3-pyghmi
TOOL_DEBS := python3-venv python3-pip man-db groff-base openssl openssh-client openssh-server
# Puppet and the Debian-packaged puppet-openstack modules the oci module declares (catalogs compile in tests).
PUPPET_DEBS := puppet puppet-module-keystone puppet-module-nova puppet-module-neutron puppet-module-glance \
	puppet-module-cinder puppet-module-placement puppet-module-horizon puppet-module-heat puppet-module-swift \
	puppet-module-openstacklib puppet-module-ceph puppet-module-puppetlabs-mysql puppet-module-puppetlabs-rabbitmq \
	puppet-module-puppetlabs-haproxy puppet-module-puppetlabs-stdlib puppet-module-oslo puppet-module-vswitch \
	puppet-module-puppetlabs-apache puppet-module-saz-memcached
# What the discovery agent runs (the live image has them); the end-to-end test runs the real agent here.
AGENT_DEBS := dmidecode ethtool ipmitool lldpd mokutil util-linux iproute2 openipmi
PYTEST_ARGS ?=

.PHONY: deps poc check lint test bench clean

deps: $(VENV)/.installed

$(VENV)/.installed: requirements-test.txt Makefile
	@missing=$$(for p in $(RUNTIME_DEBS) $(TOOL_DEBS) $(AGENT_DEBS) $(PUPPET_DEBS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "== apt-get install $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "error: run as root to install: $$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# Debian's own interpreter, so the venv sees Debian's python3-* packages (bottle 0.12, PyYAML 6.0, ...).
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

poc: deps
	$(VPY) bin/oci-poc

check: deps
	$(VPY) -m pytest $(PYTEST_ARGS)

bench: deps
	PYTHON=$(abspath $(VPY)) sh bench/run-all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
