#!/bin/sh
# Written by oci-install while it installs packages in the chroot: no daemon starts there (exit 101:
# action forbidden). Removed before the machine reboots.
exit 101
