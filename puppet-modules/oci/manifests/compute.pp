# oci::compute: parameters come from the OCI ENC (docs/enc.md).
class oci::compute (
  Array              $all_masters = [],
  Array              $all_masters_ip = [],
  Array              $all_rabbits = [],
  Array              $all_rabbits_ips = [],
  Boolean            $bgp_to_the_host = false,
  Array              $ceph_mon_host = [],
  Array              $ceph_mon_initial_members = [],
  Optional[String]   $cluster_domain = undef,
  Boolean            $cluster_has_osds = false,
  Optional[String]   $cluster_name = undef,
  Optional[Numeric]  $cpu_allocation_ratio = undef,
  Optional[String]   $first_master = undef,
  Optional[String]   $first_master_ip = undef,
  Boolean            $has_subrole_dhcp_agent = false,
  Boolean            $has_subrole_network_node = false,
  Boolean            $is_first_master = false,
  Optional[String]   $machine_hostname = undef,
  Optional[String]   $machine_ip = undef,
  Boolean            $nested_virt = false,
  Optional[Integer]  $network_cidr = undef,
  Optional[String]   $network_ipaddr = undef,
  Optional[Integer]  $nova_reserved_host_memory_mb = undef,
  Optional[String]   $openstack_release = undef,
  Optional[String]   $pass_ceph_fsid = undef,
  Optional[String]   $pass_ceph_libvirt_uuid = undef,
  Optional[String]   $pass_ceph_openstack_key = undef,
  Optional[String]   $pass_cinder_authtoken = undef,
  Optional[String]   $pass_metadata_proxy_shared_secret = undef,
  Optional[String]   $pass_neutron_authtoken = undef,
  Optional[String]   $pass_neutron_messaging = undef,
  Optional[String]   $pass_nova_authtoken = undef,
  Optional[String]   $pass_nova_messaging = undef,
  Optional[String]   $pass_placement_authtoken = undef,
  Optional[Numeric]  $ram_allocation_ratio = undef,
  Optional[String]   $region_name = undef,
  Boolean            $self_signed_api_cert = false,
  Optional[String]   $sql_vip_ip = undef,
  Boolean            $use_ceph_if_available = false,
  Optional[String]   $vip_hostname = undef,
  Optional[String]   $vip_ipaddr = undef,
) {
  $keystone_url = "https://${vip_hostname}:5000"
  $transport = join($all_rabbits.map |$host| { "${host}:5671" }, ',')

  class { 'nova':
    default_transport_url => "rabbit://nova:${pass_nova_messaging}@${transport}/",
    cpu_allocation_ratio  => $cpu_allocation_ratio,
    ram_allocation_ratio  => $ram_allocation_ratio,
  }
  class { 'nova::keystone::authtoken':
    password             => $pass_nova_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'nova::placement':
    password    => $pass_placement_authtoken,
    auth_url    => $keystone_url,
    region_name => $region_name,
  }
  class { 'nova::compute':
    reserved_host_memory => $nova_reserved_host_memory_mb,
  }
  class { 'nova::compute::libvirt':
    virt_type => 'kvm',
  }
  class { 'neutron':
    default_transport_url => "rabbit://neutron:${pass_neutron_messaging}@${transport}/",
    core_plugin           => 'ml2',
  }
  class { 'neutron::agents::ml2::ovs':
    local_ip        => $machine_ip,
    tunnel_types    => ['vxlan'],
    l2_population   => true,
  }
  if $has_subrole_dhcp_agent {
    class { 'neutron::agents::dhcp': }
  }
}
