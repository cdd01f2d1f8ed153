# oci::network: the Neutron OVS, L3, DHCP and metadata agents. Parameters come from the OCI ENC
# (docs/enc.md); the cluster's values from oci::cluster.
class oci::network (
  Optional[String]   $machine_ip,
  String             $pass_metadata_proxy_shared_secret,
  String             $pass_neutron_messaging,
) {
  include oci::cluster

  class { 'neutron':
    default_transport_url => "rabbit://neutron:${pass_neutron_messaging}@${oci::cluster::rabbit_hosts}/",
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
