# oci::network: Neutron's layer-2, L3, DHCP and metadata agents. Parameters come from the OCI ENC
# (docs/enc.md); the cluster's values from oci::cluster.
class oci::network (
  Optional[String]   $machine_ip,
  Optional[String]   $machine_iface,
  String             $external_network_name,
  String             $pass_metadata_proxy_shared_secret,
  String             $pass_neutron_messaging,
) {
  include oci::cluster
  # The agents would start at install on the packages' defaults (a message queue on localhost).
  class { 'oci::held_services':
    services => ['neutron-l3-agent', 'neutron-dhcp-agent', 'neutron-metadata-agent', 'neutron-linuxbridge-agent',
                 'neutron-openvswitch-agent'],
  }

  class { 'neutron':
    default_transport_url => "rabbit://neutron:${pass_neutron_messaging}@${oci::cluster::rabbit_hosts}/",
    core_plugin           => 'ml2',
    *                     => $oci::cluster::messaging_tls,
  }
  class { 'oci::profile::neutron_l2':
    local_ip         => $machine_ip,
    local_iface      => $machine_iface,
    physical_network => $external_network_name,
  }
  class { 'neutron::agents::l3':
    interface_driver => $oci::profile::neutron_l2::interface_driver,
  }
  class { 'neutron::agents::dhcp':
    interface_driver => $oci::profile::neutron_l2::interface_driver,
  }
  class { 'neutron::agents::metadata':
    shared_secret     => $pass_metadata_proxy_shared_secret,
    metadata_host     => $oci::cluster::vip_hostname,
    metadata_protocol => 'https',
  }
}
