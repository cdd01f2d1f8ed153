# oci::compute: Nova compute and the Neutron OVS agent. Parameters come from the OCI ENC (docs/enc.md);
# the cluster's values from oci::cluster.
class oci::compute (
  Optional[String]   $machine_ip,
  Boolean            $has_subrole_dhcp_agent,
  Numeric            $cpu_allocation_ratio,
  Numeric            $ram_allocation_ratio,
  Integer            $nova_reserved_host_memory_mb,
  String             $pass_nova_authtoken,
  String             $pass_nova_messaging,
  String             $pass_neutron_messaging,
  String             $pass_placement_authtoken,
) {
  include oci::cluster
  $keystone_url = $oci::cluster::keystone_url
  $transport = $oci::cluster::rabbit_hosts

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
    region_name => $oci::cluster::region_name,
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
