# oci::network: parameters come from the OCI ENC (docs/enc.md).
class oci::network (
  Array              $all_masters = [],
  Array              $all_masters_ip = [],
  Array              $all_rabbits = [],
  Array              $all_rabbits_ips = [],
  Boolean            $bgp_to_the_host = false,
  Optional[String]   $cluster_domain = undef,
  Optional[String]   $cluster_name = undef,
  Optional[String]   $first_master = undef,
  Optional[String]   $first_master_ip = undef,
  Boolean            $is_first_master = false,
  Optional[String]   $machine_hostname = undef,
  Optional[String]   $machine_ip = undef,
  Optional[Integer]  $network_cidr = undef,
  Optional[String]   $network_ipaddr = undef,
  Optional[String]   $openstack_release = undef,
  Optional[String]   $pass_metadata_proxy_shared_secret = undef,
  Optional[String]   $pass_neutron_authtoken = undef,
  Optional[String]   $pass_neutron_messaging = undef,
  Optional[String]   $pass_neutron_vrrp = undef,
  Optional[String]   $pass_nova_authtoken = undef,
  Optional[String]   $region_name = undef,
  Boolean            $self_signed_api_cert = false,
  Optional[String]   $vip_hostname = undef,
  Optional[String]   $vip_ipaddr = undef,
) {
  $keystone_url = "https://${vip_hostname}:5000"
  $transport = join($all_rabbits.map |$host| { "${host}:5671" }, ',')

  class { 'neutron':
    default_transport_url => "rabbit://neutron:${pass_neutron_messaging}@${transport}/",
    core_plugin           => 'ml2',
  }
  class { 'neutron::agents::ml2::ovs':
    local_ip      => $machine_ip,
    tunnel_types  => ['vxlan'],
    l2_population => true,
  }
  class { 'neutron::agents::l3': }
  class { 'neutron::agents::dhcp': }
  class { 'neutron::agents::metadata':
    shared_secret => $pass_metadata_proxy_shared_secret,
  }
}
