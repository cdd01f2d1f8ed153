# sh script written by openstack-cluster-installer: machine-wipe of DELL1, run in its live image (docs/lifecycle.md).
# Every disk it reported but USB ones: signatures gone, every block discarded where the disk can, and the first
# and last 100 MiB written over with zeros (partition tables, RAID superblocks and file system
# headers live there), whatever the disk can discard.
set -eu
if [ -r /proc/mdstat ] && grep -q '^md' /proc/mdstat; then
    mdadm --stop --scan
fi
echo "wiping /dev/sda (915763 MiB)"
wipefs --all --force /dev/sda
blkdiscard --force /dev/sda 2>/dev/null || echo "/dev/sda: no discard; zeros only"
dd if=/dev/zero of=/dev/sda bs=1M count=100 conv=fsync status=none
dd if=/dev/zero of=/dev/sda bs=1M seek=960142455603 oflag=seek_bytes count=100 conv=fsync status=none
echo "wiping /dev/sdb (915763 MiB)"
wipefs --all --force /dev/sdb
blkdiscard --force /dev/sdb 2>/dev/null || echo "/dev/sdb: no discard; zeros only"
dd if=/dev/zero of=/dev/sdb bs=1M count=100 conv=fsync status=none
dd if=/dev/zero of=/dev/sdb bs=1M seek=960142455603 oflag=seek_bytes count=100 conv=fsync status=none
echo "wiping /dev/sdc (1782579 MiB)"
wipefs --all --force /dev/sdc
blkdiscard --force /dev/sdc 2>/dev/null || echo "/dev/sdc: no discard; zeros only"
dd if=/dev/zero of=/dev/sdc bs=1M count=100 conv=fsync status=none
dd if=/dev/zero of=/dev/sdc bs=1M seek=1869064909619 oflag=seek_bytes count=100 conv=fsync status=none
echo "wiping /dev/sdd (1782579 MiB)"
wipefs --all --force /dev/sdd
blkdiscard --force /dev/sdd 2>/dev/null || echo "/dev/sdd: no discard; zeros only"
dd if=/dev/zero of=/dev/sdd bs=1M count=100 conv=fsync status=none
dd if=/dev/zero of=/dev/sdd bs=1M seek=1869064909619 oflag=seek_bytes count=100 conv=fsync status=none
echo "wiping /dev/sde (1782579 MiB)"
wipefs --all --force /dev/sde
blkdiscard --force /dev/sde 2>/dev/null || echo "/dev/sde: no discard; zeros only"
dd if=/dev/zero of=/dev/sde bs=1M count=100 conv=fsync status=none
dd if=/dev/zero of=/dev/sde bs=1M seek=1869064909619 oflag=seek_bytes count=100 conv=fsync status=none
echo "wiping /dev/sdf (1782579 MiB)"
wipefs --all --force /dev/sdf
blkdiscard --force /dev/sdf 2>/dev/null || echo "/dev/sdf: no discard; zeros only"
dd if=/dev/zero of=/dev/sdf bs=1M count=100 conv=fsync status=none
dd if=/dev/zero of=/dev/sdf bs=1M seek=1869064909619 oflag=seek_bytes count=100 conv=fsync status=none
partprobe 2>/dev/null || true
echo "wiped 6 disk(s)"
