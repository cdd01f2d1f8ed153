# oci::cephmon: a Ceph monitor and manager. Parameters come from the OCI ENC
# (docs/enc.md); the cluster's values from oci::cluster.
class oci::cephmon (
  Optional[String]   $machine_ip,
  String             $pass_ceph_admin_key,
  String             $pass_ceph_bootstrap_osd_key,
  String             $pass_ceph_fsid,
  String             $pass_ceph_mgr_key,
  String             $pass_ceph_mon_key,
) {
  include oci::cluster
  # The monitors (and managers) of the cluster's Ceph, from the Debian puppet-ceph module.
  class { 'ceph':
    fsid                => $pass_ceph_fsid,
    mon_initial_members => join($oci::cluster::ceph_mon_initial_members, ','),
    mon_host            => join($oci::cluster::ceph_mon_host, ','),
    public_addr         => $machine_ip,
  }
  ceph::mon { $facts['networking']['hostname']:
    key         => $pass_ceph_mon_key,
    public_addr => $machine_ip,
  }
  ceph::mgr { $facts['networking']['hostname']:
    key        => $pass_ceph_mgr_key,
    inject_key => true,
  }
  ceph::key { 'client.admin':
    secret  => $pass_ceph_admin_key,
    cap_mon => 'allow *',
    cap_osd => 'allow *',
    cap_mds => 'allow',
    cap_mgr => 'allow *',
  }
  ceph::key { 'client.bootstrap-osd':
    secret       => $pass_ceph_bootstrap_osd_key,
    keyring_path => '/var/lib/ceph/bootstrap-osd/ceph.keyring',
    cap_mon      => 'allow profile bootstrap-osd',
  }
}
