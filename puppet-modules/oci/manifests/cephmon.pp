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
  # Ceph from the Debian packages; the cluster's identity and keys come from the ENC.
  package { 'ceph': ensure => installed }
  file { '/etc/ceph/ceph.conf':
    ensure  => file,
    mode    => '0644',
    content => join([
      '[global]',
      "fsid = ${pass_ceph_fsid}",
      "mon initial members = ${join($ceph_mon_initial_members, ', ')}",
      "mon host = ${join($ceph_mon_host, ', ')}",
      '',
    ], "\n"),
    require => Package['ceph'],
  }

  file { '/etc/ceph/ceph.client.admin.keyring':
    ensure  => file,
    mode    => '0600',
    content => "[client.admin]\n  key = ${pass_ceph_admin_key}\n",
    require => Package['ceph'],
  }
}
