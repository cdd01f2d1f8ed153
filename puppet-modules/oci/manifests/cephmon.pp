# oci::cephmon: parameters come from the OCI ENC (docs/enc.md).
class oci::cephmon (
  Array              $all_masters = [],
  Array              $all_masters_ip = [],
  Array              $ceph_mon_host = [],
  Array              $ceph_mon_initial_members = [],
  Optional[String]   $cluster_domain = undef,
  Boolean            $cluster_has_osds = false,
  Optional[String]   $cluster_name = undef,
  Optional[String]   $first_master = undef,
  Optional[String]   $first_master_ip = undef,
  Boolean            $is_first_master = false,
  Optional[String]   $machine_hostname = undef,
  Optional[String]   $machine_ip = undef,
  Optional[Integer]  $network_cidr = undef,
  Optional[String]   $network_ipaddr = undef,
  Optional[String]   $pass_ceph_admin_key = undef,
  Optional[String]   $pass_ceph_bootstrap_osd_key = undef,
  Optional[String]   $pass_ceph_fsid = undef,
  Optional[String]   $pass_ceph_mgr_key = undef,
  Optional[String]   $pass_ceph_mon_key = undef,
  Optional[String]   $pass_ceph_openstack_key = undef,
  Optional[String]   $region_name = undef,
  Boolean            $self_signed_api_cert = false,
  Optional[String]   $vip_hostname = undef,
  Optional[String]   $vip_ipaddr = undef,
) {
  # The monitors (and managers) of the cluster's Ceph, from the Debian puppet-ceph module.
  class { 'ceph':
    fsid                => $pass_ceph_fsid,
    mon_initial_members => join($ceph_mon_initial_members, ','),
    mon_host            => join($ceph_mon_host, ','),
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
