# oci::volume: parameters come from the OCI ENC (docs/enc.md).
class oci::volume (
  Array              $all_masters = [],
  Array              $all_masters_ip = [],
  Array              $all_rabbits = [],
  Array              $all_rabbits_ips = [],
  Array              $ceph_mon_host = [],
  Array              $ceph_mon_initial_members = [],
  Optional[String]   $cinder_backup_backend = undef,
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
  Optional[String]   $openstack_release = undef,
  Optional[String]   $pass_ceph_fsid = undef,
  Optional[String]   $pass_ceph_libvirt_uuid = undef,
  Optional[String]   $pass_ceph_openstack_key = undef,
  Optional[String]   $pass_cinder_authtoken = undef,
  Optional[String]   $pass_cinder_db = undef,
  Optional[String]   $pass_cinder_messaging = undef,
  Optional[String]   $region_name = undef,
  Boolean            $self_signed_api_cert = false,
  Optional[String]   $sql_vip_ip = undef,
  Optional[String]   $vip_hostname = undef,
  Optional[String]   $vip_ipaddr = undef,
) {
  $keystone_url = "https://${vip_hostname}:5000"
  $transport = join($all_rabbits.map |$host| { "${host}:5671" }, ',')

  class { 'cinder::db':
    database_connection => "mysql+pymysql://cinder:${pass_cinder_db}@${sql_vip_ip}/cinder",
  }
  class { 'cinder':
    default_transport_url => "rabbit://cinder:${pass_cinder_messaging}@${transport}/",
  }
  class { 'cinder::keystone::authtoken':
    password             => $pass_cinder_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'cinder::volume': }
  cinder::backend::iscsi { 'lvm':
    target_ip_address => $machine_ip,
    volume_group      => "${cluster_name}vg0",
  }
  class { 'cinder::backends':
    enabled_backends => ['lvm'],
  }
}
