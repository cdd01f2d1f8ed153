# oci::profile::neutron_server (controllers, when there are computes): the Neutron API (Debian's uwsgi
# service on the management address) and RPC server with ML2, VXLAN projects' networks and a flat external
# network; without network nodes, the controllers are also the network nodes (L2, L3, metadata agents).
class oci::profile::neutron_server {
  $keystone_url = $oci::cluster::keystone_url
  $api_url = $oci::cluster::api_url
  $l2 = $oci::cluster::neutron_l2_agent

  class { 'neutron':
    default_transport_url => "rabbit://neutron:${oci::controller::pass_neutron_messaging}@${oci::cluster::rabbit_hosts}/",
    core_plugin           => 'ml2',
    service_plugins       => ['router'],
    *                     => $oci::cluster::messaging_tls,
  }
  class { 'neutron::db':
    database_connection => "mysql+pymysql://neutron:${oci::controller::pass_neutron_db}@${oci::cluster::sql_vip_ip}/neutron",
  }
  class { 'neutron::keystone::authtoken':
    password             => $oci::controller::pass_neutron_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  oci::uwsgi_api { 'neutron-api':
    project   => 'neutron',
    port      => 9696,
    address   => $oci::controller::machine_ip,
    init_name => 'neutron-server',
  }
  class { 'neutron::server':
    sync_db                      => $oci::controller::is_first_master,
    enable_proxy_headers_parsing => true,
  }
  class { 'neutron::server::notifications::nova':
    password    => $oci::controller::pass_nova_authtoken,
    auth_url    => $keystone_url,
    region_name => $oci::cluster::region_name,
  }
  class { 'neutron::plugins::ml2':
    type_drivers         => ['flat', 'vlan', 'vxlan'],
    tenant_network_types => ['vxlan'],
    mechanism_drivers    => [$l2, 'l2population'],
    flat_networks        => $oci::cluster::external_network_names,
    vni_ranges           => ["${oci::cluster::neutron_vxlan_vni_min}:${oci::cluster::neutron_vxlan_vni_max}"],
  }
  # Neutron calls the Linux bridge driver experimental: the server refuses it unless told.
  if $l2 == 'linuxbridge' {
    ensure_resource('neutron_config', 'experimental/linuxbridge', { 'value' => true })
  }
  if $oci::controller::is_first_master {
    class { 'neutron::keystone::auth':
      password     => $oci::controller::pass_neutron_authtoken,
      public_url   => "${api_url}:9696",
      internal_url => "${api_url}:9696",
      admin_url    => "${api_url}:9696",
      region       => $oci::cluster::region_name,
    }
  }
  if $oci::cluster::has_subrole_network_node {
    class { 'oci::profile::neutron_l2':
      local_ip         => $oci::controller::machine_ip,
      local_iface      => $oci::controller::machine_iface,
      physical_network => $oci::controller::external_network_name,
    }
    class { 'neutron::agents::l3':
      interface_driver => $oci::profile::neutron_l2::interface_driver,
    }
    class { 'neutron::agents::metadata':
      shared_secret     => $oci::controller::pass_metadata_proxy_shared_secret,
      metadata_host     => $oci::cluster::vip_hostname,
      metadata_protocol => 'https',
    }
  }
}
