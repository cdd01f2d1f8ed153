# openstack-cluster-installer — developer entry points.
#   make poc     the main job on an embedded default (installs what it needs)
#   make check   every test (installs what it needs)
#   make check-twice   two make check at once in fresh clones: the suite does not need the machine to itself
#   make bench   the benchmarks in bench/
#   make deb     the Debian packages, unsigned, into dist/ (then lintian; docs/packaging.md)
#   make live-image     the discovery live image into dist/live (docs/live-image.md)
#   make vm-live-test   a qemu VM PXE-boots the live image and reports (minutes under TCG; docs/boot.md)
#   make vm-install-test   qemu VMs install Debian end to end: PXE, live, machine-install-os, then boot their own
#                          disk, report installed, and run Puppet to success; one disk, RAID 1, UEFI (an hour or
#                          more each under TCG; docs/install-vm.md)
#   make vm-install-bench  the same, one case (VM_CASES, default one-disk), timed (bench/vm_install.py)
#   make poc-cloud  OCI deploys a controller and a compute (containers) and checks the cloud through its APIs
#                   (an hour or two here; docs/cloud.md); make poc-cloud-down tears a kept one down
#   make poc-vms   the whole talk on qemu VMs with IPMI BMCs: power-on to Puppet success (hours under TCG;
#                  docs/poc.md); POC_VMS_ARGS='--count 2 --keep', make poc-vms-down tears a kept lab down
# Run as root on Debian 12: missing Debian packages are installed with apt-get.

SHELL := /bin/bash
PYTHON := /usr/bin/python3
VENV := .venv
VPY := $(VENV)/bin/python
# Debian packages the code runs against (the versions Debian 12 ships), and what the tests need.
RUNTIME_DEBS := python3-bottle python3-waitress python3-yaml python3-jinja2 python3-cryptography \
	python3-requests python3-debian python3-pyghmi
TOOL_DEBS := python3-venv python3-pip man-db groff-base openssl openssh-client openssh-server isc-dhcp-server ipxe live-build \
	busybox-static cpio qemu-system-x86 ipxe-qemu ifupdown ifenslave bridge-utils \
	apt-cacher-ng debootstrap fdisk dosfstools nftables ovmf curl dnsmasq-base swift
# Puppet, its server (a JVM: the tests start it), and the Debian-packaged puppet-openstack modules the oci module
# declares (catalogs compile in tests).
PUPPET_DEBS := puppet puppetserver puppet-module-keystone puppet-module-nova puppet-module-neutron puppet-module-glance \
	puppet-module-cinder puppet-module-placement puppet-module-horizon puppet-module-heat puppet-module-swift \
	puppet-module-openstacklib puppet-module-ceph puppet-module-puppetlabs-mysql puppet-module-puppetlabs-rabbitmq \
	puppet-module-puppetlabs-haproxy puppet-module-puppetlabs-stdlib puppet-module-oslo puppet-module-vswitch \
	puppet-module-puppetlabs-apache puppet-module-saz-memcached
# What the discovery agent runs (the live image has them); the end-to-end test runs the real agent here.
AGENT_DEBS := dmidecode ethtool ipmitool lldpd mokutil util-linux iproute2 openipmi
# Building and checking the Debian packages (make deb, tests/integration/test_packaging.py), and what the
# packages depend on that nothing above brings (the test installs them here).
PACKAGING_DEBS := debhelper dh-python python3-all dpkg-dev fakeroot lintian po-debconf help2man debconf-utils \
	adduser sudo apache2 libapache2-mod-wsgi-py3 puppet-module-puppetlabs-apt mdadm
# Another make beside this one (a second clone) may hold the dpkg lock: wait for it rather than fail.
APT_WAIT := -o DPkg::Lock::Timeout=1800
PYTEST_ARGS ?=
# $(call install_missing,PACKAGES): apt-get install those of PACKAGES that are not installed (root only; the dpkg
# lock of another make is waited for).
install_missing = missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "== apt-get install $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "error: run as root to install: $$missing" >&2; exit 1; fi; \
		apt-get update -qq $(APT_WAIT) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_WAIT) $$missing; \
	fi

.PHONY: deps poc check check-twice lint test bench clean deb

deps: $(VENV)/.installed

$(VENV)/.installed: requirements-test.txt Makefile
	@$(call install_missing,$(RUNTIME_DEBS) $(TOOL_DEBS) $(AGENT_DEBS) $(PUPPET_DEBS) $(PACKAGING_DEBS))
	@# Debian's own interpreter, so the venv sees Debian's python3-* packages (bottle 0.12, PyYAML 6.0, ...).
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VPY) -m pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

poc: deps
	$(VPY) bin/oci-poc

check: deps
	$(VPY) -m pytest $(PYTEST_ARGS)

# Two make check at once, each in a fresh clone of HEAD: no test depends on the machine's speed or on having
# it alone (docs/benchmarks.md has the figures). Logs in build/twice/{a,b}.log.
check-twice:
	rm -rf build/twice && mkdir -p build/twice
	git clone -q . build/twice/a && git clone -q . build/twice/b
	@$(MAKE) -C build/twice/a check > build/twice/a.log 2>&1 & a=$$!; \
	$(MAKE) -C build/twice/b check > build/twice/b.log 2>&1 & b=$$!; \
	wait $$a; ra=$$?; wait $$b; rb=$$?; \
	tail -n 2 build/twice/a.log build/twice/b.log; \
	echo "make check beside another: $$ra and $$rb (exit codes)"; test $$ra = 0 && test $$rb = 0

bench: deps
	PYTHON=$(abspath $(VPY)) sh bench/run-all

# The packages are built from a copy of the tree (dpkg-buildpackage writes beside and inside its source),
# by Debian's tools with Debian's interpreter only: a PATH of system directories.
DIST ?= dist
DEB_BUILD_DIR ?= build/deb
DEB_SOURCE := $(shell dpkg-parsechangelog -l debian/changelog -S Source 2>/dev/null)
DEB_UPSTREAM := $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null | sed 's/-[^-]*$$//')
deb:
	rm -rf $(DEB_BUILD_DIR)
	mkdir -p $(DEB_BUILD_DIR)/$(DEB_SOURCE)-$(DEB_UPSTREAM) $(DIST)
	tar -c --exclude-vcs --exclude=./.venv --exclude=./build --exclude=./dist --exclude=./.pytest_cache \
		--exclude=./.mypy_cache --exclude=./.ruff_cache --exclude=./.hypothesis --exclude=__pycache__ --exclude='*.pyc' . \
		| tar -x -C $(DEB_BUILD_DIR)/$(DEB_SOURCE)-$(DEB_UPSTREAM)
	tar -C $(DEB_BUILD_DIR) --exclude=$(DEB_SOURCE)-$(DEB_UPSTREAM)/debian --sort=name --owner=0 --group=0 \
		-cJf $(DEB_BUILD_DIR)/$(DEB_SOURCE)_$(DEB_UPSTREAM).orig.tar.xz $(DEB_SOURCE)-$(DEB_UPSTREAM)
	cd $(DEB_BUILD_DIR)/$(DEB_SOURCE)-$(DEB_UPSTREAM) && env -u PYTHONPATH PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		dpkg-buildpackage -us -uc --no-sign
	cd $(DEB_BUILD_DIR) && cp -f *.deb *.dsc *.orig.tar.xz *.debian.tar.xz *.changes *.buildinfo $(abspath $(DIST))/
	PATH=/usr/sbin:/usr/bin:/sbin:/bin lintian --fail-on error,warning $(DIST)/$(DEB_SOURCE)_*.changes

# The live image (docs/live-image.md): live-build as root, into dist/live, from the packages make deb builds.
# What only the build needs is installed here, not by make deps (make check runs lb config, not lb build).
LIVE_DEBS := live-build squashfs-tools debootstrap zstd xz-utils
.PHONY: live-image
live-image: deb
	@$(call install_missing,$(LIVE_DEBS))
	env -u PYTHONPATH PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBS=$(abspath $(DIST)) sh live-build/build.sh build

# Power-on to report with the full live image on a qemu VM (TCG: minutes, so not part of make check).
.PHONY: vm-live-test
vm-live-test: deps live-image
	OCI_VM_LIVE=1 OCI_LIVE_IMAGE=1 $(VPY) -m pytest -s -m live_image tests/integration/test_pxe_vm.py tests/integration/test_live_image.py

# The end-to-end install on qemu VMs (TCG: tens of minutes, so not part of make check). The image is built with
# the live SSH CA of a state directory kept for the lab, which the test's master then uses: the image trusts
# that CA's user key for the master's logins. No master address built in: iPXE passes oci.master=.
VM_LAB_STATE := build/vm-lab/state
# A folder of its own for the test's files (consoles, disks, the master's state): pytest prunes its shared
# temporary folders when other runs start, and this run lasts long enough to see that happen.
# VM_TESTS: pytest options, e.g. VM_TESTS='-k raid1' for one case.
.PHONY: vm-install-test
vm-install-test: deps
	mkdir -p $(VM_LAB_STATE)
	OCI_STATE_DIR=$(abspath $(VM_LAB_STATE)) MASTER= $(MAKE) live-image
	OCI_VM_INSTALL=1 OCI_VM_LAB_STATE=$(abspath $(VM_LAB_STATE)) $(VPY) -m pytest -s --basetemp=$(abspath build/vm-lab/tmp) \
		tests/integration/test_install_vm.py $(VM_TESTS)

# The talk on VMs (docs/poc.md): the live image as vm-install-test builds it (its live SSH CA kept in VM_LAB_STATE).
POC_VMS_ARGS ?=
.PHONY: poc-vms poc-vms-down
poc-vms: deps
	mkdir -p $(VM_LAB_STATE)
	OCI_STATE_DIR=$(abspath $(VM_LAB_STATE)) MASTER= $(MAKE) live-image
	$(VPY) bin/oci-poc vms $(POC_VMS_ARGS)

poc-vms-down: deps
	$(VPY) bin/oci-poc vms --down

# The cloud lab (docs/cloud.md): containers need systemd-nspawn, the checks the openstack client.
CLOUD_DEBS := systemd-container python3-openstackclient
POC_CLOUD_ARGS ?=
.PHONY: poc-cloud poc-cloud-down
poc-cloud: deps
	@$(call install_missing,$(CLOUD_DEBS))
	$(VPY) bin/oci-poc cloud $(POC_CLOUD_ARGS)

poc-cloud-down: deps
	$(VPY) bin/oci-poc cloud --down

# Its figures, as a benchmark (docs/benchmarks.md): VM_CASES='one-disk raid1 uefi' for more than one.
VM_CASES ?= one-disk
.PHONY: vm-install-bench
vm-install-bench: deps
	$(VPY) bench/vm_install.py $(VM_CASES)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
