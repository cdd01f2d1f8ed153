# oci::profile::neutron_server (controllers, when there are computes): the Neutron server with ML2/OVS, and
# without network nodes the L3 and metadata agents.
class oci::profile::neutron_server {
  $keystone_url = $oci::cluster::keystone_url

  class { 'neutron':
    default_transport_url => "rabbit://neutron:${oci::controller::pass_neutron_messaging}@${oci::cluster::rabbit_hosts}/",
    core_plugin           => 'ml2',
    service_plugins       => ['router'],
  }
  class { 'neutron::db':
    database_connection => "mysql+pymysql://neutron:${oci::controller::pass_neutron_db}@${oci::cluster::sql_vip_ip}/neutron",
  }
  class { 'neutron::keystone::authtoken':
    password             => $oci::controller::pass_neutron_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'neutron::server':
    sync_db => $oci::controller::is_first_master,
  }
  class { 'neutron::server::notifications::nova':
    password => $oci::controller::pass_nova_authtoken,
    auth_url => $keystone_url,
  }
  class { 'neutron::plugins::ml2':
    type_drivers         => ['flat', 'vlan', 'vxlan'],
    tenant_network_types => ['vxlan'],
    mechanism_drivers    => ['openvswitch', 'l2population'],
  }
  if $oci::cluster::has_subrole_network_node {
    class { 'neutron::agents::l3': }
    class { 'neutron::agents::metadata':
      shared_secret => $oci::controller::pass_metadata_proxy_shared_secret,
    }
  }
}
