#!/bin/sh
# The demo of the reference README ("Creating Swift regions, locations, networks, roles and clusters" and
# "Enrolling servers in a cluster"), typed as it is there. Two deliberate differences:
#  - the README attaches pubnet1 to a location named "public" that it never creates: it is created here;
#  - network-add takes one interface as in the README (the reference itself wanted two).
set -e
run() { echo "# ocicli $*"; ocicli "$@"; echo; }

run machine-list
run swift-region-create datacenter-1
run swift-region-create datacenter-2
run location-create dc1-zone1 datacenter-1
run location-create dc1-zone2 datacenter-1
run location-create dc2-zone1 datacenter-2
run location-create public datacenter-1
run network-create dc1-net1 192.168.101.0 24 dc1-zone1 no
run network-create dc1-net2 192.168.102.0 24 dc1-zone2 no
run network-create dc2-net1 192.168.103.0 24 dc2-zone1 no
run network-create pubnet1 203.0.113.0 28 public yes
run cluster-create swift01 example.com
run network-add dc1-net1 swift01 all eth0
run network-add dc1-net2 swift01 all eth0
run network-add dc2-net1 swift01 all eth0
run network-add pubnet1 swift01 all eth0
run machine-add C1 swift01 controller dc1-zone1
run machine-add C2 swift01 controller dc1-zone2
run machine-add C3 swift01 controller dc2-zone1
run machine-add C4 swift01 swiftproxy dc1-zone1
run machine-add C5 swift01 swiftproxy dc1-zone2
run machine-add C6 swift01 swiftproxy dc2-zone1
run machine-add C7 swift01 swiftstore dc1-zone1
run machine-add C8 swift01 swiftstore dc1-zone2
run machine-add C9 swift01 swiftstore dc2-zone1
run machine-add CA swift01 swiftstore dc1-zone1
run machine-add CB swift01 swiftstore dc1-zone2
run machine-add CC swift01 swiftstore dc2-zone1
run cluster-check swift01
run cluster-show-ips swift01
run machine-list -n
# The README's eth0 does not exist on these (real, captured) machines: planning C1's network would fail with
# the list of its NICs (OCI 42 silently dropped such names). Name the first onboard port instead.
run network-set dc1-net1 --iface1 eno1
run machine-show-network C1
# What installing C1 would do (the dry run changes nothing), and the command its live node would run.
run machine-install-os --dry-run C1
run machine-display-install-cmd C1
