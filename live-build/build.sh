#!/bin/sh
# The OCI live image: a live-build configuration for Debian 12 (bookworm), built as root.
#
#   live-build/build.sh config   write the live-build tree in $WORK (fast; what the tests check)
#   live-build/build.sh build    config, then lb build, then $OUT/{vmlinuz,initrd.img,filesystem.squashfs,manifest.txt}
#
# make live-image runs "build" after make deb (the image installs the agent from dist/*.deb).
# Settings, from the environment (defaults from the OCI configuration, docs/live-image.md):
#   OCI_STATE_DIR    the master's state directory: the live user CA public key comes from <state>/ssh/live
#                    (created there if missing, as the state directory's owner)
#   MASTER           HOST[:PORT] or URL the image reports to unless the kernel command line says oci.master=
#                    (default: [boot] url, else [network] oci_ip and the API's port; empty: none built in)
#   MIRROR           Debian mirror (default [network] debian_mirror); a snapshot.debian.org URL pins every package
#   SECURITY_MIRROR  default: MIRROR with debian -> debian-security
#   PACKAGE_CACHE    the master's apt-cacher-ng, http://HOST:PORT (default from [install] package_cache and
#                    [network] oci_ip; empty: none): the image's apt sources go through it, and so does the
#                    build when the cache answers
#   FIRMWARE         1: add non-free-firmware and FIRMWARE_PACKAGES (default 0: none, docs say why)
#   WORK, OUT, DEBS  build tree (build/live; its cache/ makes rebuilds fast), output (dist/live), .deb folder (dist)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
WORK=${WORK:-$repo/build/live}
OUT=${OUT:-$repo/dist/live}
DEBS=${DEBS:-$repo/dist}
FIRMWARE=${FIRMWARE:-0}
FIRMWARE_PACKAGES=${FIRMWARE_PACKAGES:-firmware-bnx2 firmware-bnx2x firmware-qlogic firmware-misc-nonfree}
DISTRIBUTION=bookworm
PYTHON=/usr/bin/python3 # Debian's: the library runs on Debian's python3-* packages

die() {
	echo "live-build/build.sh: error: $*" >&2
	exit 1
}

# The OCI settings the image needs, read through the library as shell assignments. The live user CA is
# created in the state directory if missing, by the directory's owner (a root-owned file there would lock
# the API's service user out of it).
oci_settings() {
	state=${OCI_STATE_DIR:-$(PYTHONPATH="$repo/lib" "$PYTHON" -c 'from oci import config; print(config.load().state_dir)')}
	[ -d "$state" ] || die "state directory $state does not exist (set OCI_STATE_DIR to the master's)"
	owner=$(stat -c %u "$state")
	as_owner=""
	if [ "$owner" != 0 ] && [ "$(id -u)" = 0 ]; then
		as_owner="setpriv --reuid=$owner --regid=$(stat -c %g "$state") --init-groups"
	fi
	# shellcheck disable=SC2086 # as_owner is a command prefix, split on purpose
	OCI_STATE_DIR=$state PYTHONPATH="$repo/lib" $as_owner "$PYTHON" - <<'EOF'
import shlex
from pathlib import Path

from oci import config
from oci.pki import ssh
from oci.packagecache import package_cache
from oci.store import Store

cfg = config.load()
store = Store(Path(cfg.state_dir), config=cfg)
ssh.ensure_cas(store, None)
boot_url = getattr(cfg, "boot_url", "")  # [boot] url: where nodes reach the master while booting
if boot_url:
    master = boot_url.rstrip("/")
elif cfg.master_address is not None:
    port = cfg.listen[1]
    master = f"{cfg.master_address}" + ("" if port == 80 else f":{port}")
else:
    master = ""
for name, value in (
    ("cfg_state_dir", str(cfg.state_dir)),
    ("cfg_master", master),
    ("cfg_mirror", cfg.debian_mirror),
    # No master address, no cache the nodes could reach.
    ("cfg_package_cache", (package_cache(cfg) or "") if cfg.master_address is not None else ""),
    ("cfg_ssh_port", str(cfg.ssh_port)),
    ("cfg_user_ca", ssh.public_ca(store, None, "user_ca")),
):
    print(f"{name}={shlex.quote(value)}")
EOF
}

security_mirror() {
	case "$1" in
	*/debian) echo "$1-security" ;;
	*/debian/) echo "${1%/}-security" ;;
	*/debian/*) echo "${1%%/debian/*}/debian-security/${1#*/debian/}" ;; # snapshot.debian.org/archive/debian/<time>
	*) die "cannot tell the security mirror of $1: set SECURITY_MIRROR" ;;
	esac
}

# $1 (a Debian archive's URL) as fetched through the apt-cacher-ng $PACKAGE_CACHE: the library's mapping.
cached() {
	PYTHONPATH="$repo/lib" "$PYTHON" -c 'import sys; from oci.packagecache import cached_url; print(cached_url(*sys.argv[1:]))' \
		"$PACKAGE_CACHE" "$1"
}

# Whether the apt-cacher-ng at $1 serves its report page (it is up, and reachable from here).
cache_answers() {
	"$PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/acng-report.html", timeout=10).close()' \
		"$1" 2> /dev/null
}

configure() {
	command -v lb > /dev/null || die "live-build is not installed (make live-image installs it)"
	settings=$(oci_settings) || die "cannot read the OCI settings or the live user CA"
	eval "$settings"
	MASTER=${MASTER-$cfg_master}
	MIRROR=${MIRROR:-$cfg_mirror}
	MIRROR=${MIRROR%/}
	SECURITY_MIRROR=${SECURITY_MIRROR:-$(security_mirror "$MIRROR")}
	case "$MASTER" in
	*[!A-Za-z0-9.:/_~\[\]-]*) die "MASTER=$MASTER is not HOST[:PORT] or http://HOST[:PORT][/PATH]" ;;
	esac
	PACKAGE_CACHE=${PACKAGE_CACHE-$cfg_package_cache}
	PACKAGE_CACHE=${PACKAGE_CACHE%/}
	case "$PACKAGE_CACHE" in
	"") ;;
	http://*[!A-Za-z0-9.:\[\]-]* | http://) die "PACKAGE_CACHE=$PACKAGE_CACHE is not http://HOST:PORT" ;;
	http://*) ;;
	*) die "PACKAGE_CACHE=$PACKAGE_CACHE is not http://HOST:PORT" ;;
	esac
	# The image's apt sources (what a live node would fetch with) go through the master's cache, as an
	# installed host's do; the build too when the cache answers from here, otherwise straight from the mirror.
	build_mirror=$MIRROR
	build_security_mirror=$SECURITY_MIRROR
	node_mirror=$MIRROR
	node_security_mirror=$SECURITY_MIRROR
	cache_note=""
	if [ -n "$PACKAGE_CACHE" ]; then
		node_mirror=$(cached "$MIRROR")
		node_security_mirror=$(cached "$SECURITY_MIRROR")
		if cache_answers "$PACKAGE_CACHE"; then
			build_mirror=$node_mirror
			build_security_mirror=$node_security_mirror
			cache_note=", through the package cache $PACKAGE_CACHE"
		else
			cache_note=", not through the package cache: $PACKAGE_CACHE does not answer"
		fi
	fi

	agent=$(find "$DEBS" -maxdepth 1 -name 'openstack-cluster-installer-agent_*_all.deb' 2> /dev/null | sort -V | tail -n 1)
	common=$(find "$DEBS" -maxdepth 1 -name 'openstack-cluster-installer-common_*_all.deb' 2> /dev/null | sort -V | tail -n 1)
	[ -n "$agent" ] && [ -n "$common" ] || die "no openstack-cluster-installer-{agent,common} .deb in $DEBS (run make deb)"

	mkdir -p "$WORK"
	cd "$WORK"
	# A fresh configuration every time; cache/ (every .deb downloaded, the bootstrap stage) stays.
	if [ -d config ]; then
		lb clean > /dev/null 2>&1 || true
		rm -rf config auto local
	fi

	areas=main
	firmware_list=""
	if [ "$FIRMWARE" = 1 ]; then
		areas="main non-free-firmware"
		firmware_list=$FIRMWARE_PACKAGES
	fi
	apt_options="--yes"
	case "$MIRROR" in
	*snapshot.debian.org*) apt_options="--yes -o Acquire::Check-Valid-Until=false" ;; # a snapshot's Release files are past their date
	esac

	lb config --distribution "$DISTRIBUTION" --archive-areas "$areas" \
		--mirror-bootstrap "$build_mirror" --mirror-chroot "$build_mirror" --mirror-binary "$node_mirror" \
		--mirror-chroot-security "$build_security_mirror" --mirror-binary-security "$node_security_mirror" \
		--security true --updates true --debootstrap-options "--variant=minbase" \
		--apt-recommends false --apt-indices false --apt-source-archives false --apt-options "$apt_options" \
		--initsystem systemd --linux-flavours amd64 --firmware-chroot false --firmware-binary false \
		--debian-installer none --memtest none --checksums none --zsync false \
		--binary-images netboot --bootloaders syslinux --bootappend-live "boot=live" \
		--chroot-squashfs-compression-type xz --image-name oci-live \
		--cache true --cache-packages true --cache-stages bootstrap > lb-config.log 2>&1 ||
		{
			cat lb-config.log >&2
			die "lb config failed"
		}

	cp -R "$here/config/." config/
	# Our packages go in as files that the hook 0050-oci-live-agent installs with apt (which brings their
	# Depends), not through config/packages.chroot: with a local repository there, lb binary pins Debian's
	# archive below the installed versions and fails as soon as a security update of apt exists
	# ("apt-utils : Depends: apt (= 2.6.2) but 2.6.1 is to be installed", live-build 20230502).
	debs_in=config/includes.chroot_before_packages/root/oci-debs
	mkdir -p "$debs_in" config/includes.chroot/etc/oci config/includes.chroot/etc/ssh/sshd_config.d
	cp "$agent" "$common" "$debs_in/"
	if [ -n "$firmware_list" ]; then
		printf '%s\n' "# FIRMWARE=1: firmware of common server network cards (non-free-firmware)" $firmware_list > config/package-lists/firmware.list.chroot
	fi
	# The master's address the agent uses unless the kernel command line says oci.master= (oci-live-setup.service).
	if [ -n "$MASTER" ]; then
		printf '%s\n' "$MASTER" > config/includes.chroot/etc/oci/pxe-server-ip
	fi
	printf '%s\n' "$cfg_user_ca" > config/includes.chroot/etc/ssh/oci-live-user-ca.pub
	cat > config/includes.chroot/etc/ssh/sshd_config.d/oci-live.conf << EOF
# OCI live image: root logs in with a certificate from the master's live user CA (oci.remote signs one per
# call), nothing else: no password, no authorized_keys. The host key is the node's own, made at boot and
# signed by the master's live host CA (oci-live-host-key).
Port $cfg_ssh_port
HostKey /etc/ssh/ssh_host_ed25519_key
TrustedUserCAKeys /etc/ssh/oci-live-user-ca.pub
AuthorizedKeysFile none
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
EOF
	# What the manifest records about the inputs (the package versions come from the chroot after the build).
	cat > oci-inputs.txt << EOF
distribution=$DISTRIBUTION
mirror=$MIRROR
security_mirror=$SECURITY_MIRROR
package_cache=$PACKAGE_CACHE
areas=$areas
firmware=$FIRMWARE
master=$MASTER
ssh_port=$cfg_ssh_port
state_dir=$cfg_state_dir
live_user_ca=$(printf '%s' "$cfg_user_ca" | cut -d' ' -f1-2)
live_build=$(dpkg-query -W -f '${Version}' live-build 2> /dev/null || echo unknown)
commit=$(git -C "$repo" rev-parse HEAD 2> /dev/null || echo unknown)
deb=$(basename "$common") sha256=$(sha256sum "$common" | cut -d' ' -f1)
deb=$(basename "$agent") sha256=$(sha256sum "$agent" | cut -d' ' -f1)
EOF
	echo "live-build/build.sh: configured $WORK (mirror $MIRROR$cache_note, master ${MASTER:-none built in}, firmware $FIRMWARE)"
}

# The file live-build made under $1 (the names vary with the kernel release and the image type).
pick() {
	for candidate in "binary/live/$1" "tftpboot/live/$1" binary/live/"$1"-* tftpboot/live/"$1"-*; do
		if [ -f "$candidate" ]; then
			echo "$candidate"
			return
		fi
	done
	die "lb build made no $1"
}

build() {
	[ "$(id -u)" = 0 ] || die "lb build runs as root (chroot, mounts)"
	configure
	cd "$WORK"
	started=$(date +%s)
	# SOURCE_DATE_EPOCH: the commit's time, so the image's time stamps do not change with the day of the build.
	SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2> /dev/null || date +%s)}
	export SOURCE_DATE_EPOCH
	lb build > lb-build.log 2>&1 || {
		tail -n 40 lb-build.log >&2
		die "lb build failed (log: $WORK/lb-build.log)"
	}
	seconds=$(($(date +%s) - started))
	mkdir -p "$OUT"
	rm -f "$OUT/vmlinuz" "$OUT/initrd.img" "$OUT/filesystem.squashfs" "$OUT/manifest.txt"
	cp -L "$(pick vmlinuz)" "$OUT/vmlinuz"
	cp -L "$(pick initrd.img)" "$OUT/initrd.img"
	cp -L "$(pick filesystem.squashfs)" "$OUT/filesystem.squashfs"
	{
		echo "# OCI live image manifest (live-build/build.sh; docs/live-image.md)"
		echo "[image]"
		echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo "build_seconds=$seconds"
		cat oci-inputs.txt
		echo "[files]"
		for name in vmlinuz initrd.img filesystem.squashfs; do
			echo "$name size=$(stat -c %s "$OUT/$name") sha256=$(sha256sum "$OUT/$name" | cut -d' ' -f1)"
		done
		echo "[packages]"
		# Every package installed in the image, name=version (apt-get install accepts these as they are).
		awk -F'\t' 'NF == 2 && $2 != "" { print $1 "=" $2 }' chroot.packages.live | sort
	} > "$OUT/manifest.txt"
	echo "live-build/build.sh: built in ${seconds} s:"
	ls -l "$OUT"
}

case "${1:-}" in
config) configure ;;
build) build ;;
*) die "usage: live-build/build.sh config|build" ;;
esac
