# oci::cephosd: parameters come from the OCI ENC (docs/enc.md).
class oci::cephosd (
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
  Optional[String]   $pass_ceph_bootstrap_osd_key = undef,
  Optional[String]   $pass_ceph_fsid = undef,
  Optional[String]   $pass_ceph_mon_key = undef,
  Optional[String]   $region_name = undef,
  Boolean            $self_signed_api_cert = false,
  Optional[String]   $vip_hostname = undef,
  Optional[String]   $vip_ipaddr = undef,
  Array              $block_devices = [],
) {
  # An OSD per data disk, prepared with the bootstrap-osd key (puppet-ceph).
  class { 'ceph':
    fsid                => $pass_ceph_fsid,
    mon_initial_members => join($ceph_mon_initial_members, ','),
    mon_host            => join($ceph_mon_host, ','),
  }
  ceph::key { 'client.bootstrap-osd':
    secret       => $pass_ceph_bootstrap_osd_key,
    keyring_path => '/var/lib/ceph/bootstrap-osd/ceph.keyring',
  }
  ceph::osd { $block_devices:
    require => Ceph::Key['client.bootstrap-osd'],
  }
}
