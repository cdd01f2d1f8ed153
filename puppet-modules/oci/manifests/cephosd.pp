# oci::cephosd: an OSD on every data disk. Parameters come from the OCI ENC
# (docs/enc.md); the cluster's values from oci::cluster.
class oci::cephosd (
  Array[String]      $block_devices,
  String             $pass_ceph_bootstrap_osd_key,
  String             $pass_ceph_fsid,
) {
  include oci::cluster
  # An OSD per data disk, prepared with the bootstrap-osd key (puppet-ceph).
  class { 'ceph':
    fsid                => $pass_ceph_fsid,
    mon_initial_members => join($oci::cluster::ceph_mon_initial_members, ','),
    mon_host            => join($oci::cluster::ceph_mon_host, ','),
  }
  ceph::key { 'client.bootstrap-osd':
    secret       => $pass_ceph_bootstrap_osd_key,
    keyring_path => '/var/lib/ceph/bootstrap-osd/ceph.keyring',
  }
  ceph::osd { $block_devices:
    require => Ceph::Key['client.bootstrap-osd'],
  }
}
