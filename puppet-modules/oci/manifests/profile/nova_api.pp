# oci::profile::nova_api (controllers, when there are computes): Placement and the Nova API, conductor and
# scheduler; the first master maps the cells and makes their endpoints.
class oci::profile::nova_api {
  $keystone_url = $oci::cluster::keystone_url
  $api_url = $oci::cluster::api_url
  $sql = $oci::cluster::sql_vip_ip
  $first = $oci::controller::is_first_master

  class { 'placement::db':
    database_connection => "mysql+pymysql://placement:${oci::controller::pass_placement_db}@${sql}/placement",
  }
  class { 'placement::keystone::authtoken':
    password             => $oci::controller::pass_placement_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'placement':
    sync_db => $first,
  }
  class { 'placement::api':
    enable_proxy_headers_parsing => true,
  }
  oci::uwsgi_api { 'placement-api': project => 'placement', port => 8778, address => $oci::controller::machine_ip }

  class { 'nova::db':
    database_connection     => "mysql+pymysql://nova:${oci::controller::pass_nova_db}@${sql}/nova",
    api_database_connection => "mysql+pymysql://novaapi:${oci::controller::pass_nova_db}@${sql}/nova_api",
  }
  class { 'nova':
    default_transport_url => "rabbit://nova:${oci::controller::pass_nova_messaging}@${oci::cluster::rabbit_hosts}/",
    *                     => $oci::cluster::messaging_tls,
  }
  class { 'nova::keystone::authtoken':
    password             => $oci::controller::pass_nova_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  oci::uwsgi_api { 'nova-api': project => 'nova', port => 8774, address => $oci::controller::machine_ip }
  oci::uwsgi_api { 'nova-api-metadata': project => 'nova', port => 8775, address => $oci::controller::machine_ip }
  class { 'nova::api':
    api_bind_address             => $oci::controller::machine_ip,
    metadata_listen              => $oci::controller::machine_ip,
    enable_proxy_headers_parsing => true,
    sync_db                      => $first,
    sync_db_api                  => $first,
  }
  class { 'nova::placement':
    password    => $oci::controller::pass_placement_authtoken,
    auth_url    => $keystone_url,
    region_name => $oci::cluster::region_name,
  }
  class { 'nova::network::neutron':
    auth_url                      => $keystone_url,
    password                      => $oci::controller::pass_neutron_authtoken,
    region_name                   => $oci::cluster::region_name,
    default_floating_pool         => 'public',
  }
  class { 'nova::conductor': }
  # New computes join their cell without an operator's nova-manage.
  class { 'nova::scheduler':
    discover_hosts_in_cells_interval => 120,
  }
  if $first {
    class { 'nova::cell_v2::simple_setup': }
    class { 'nova::keystone::auth':
      password     => $oci::controller::pass_nova_authtoken,
      public_url   => "${api_url}:8774/v2.1",
      internal_url => "${api_url}:8774/v2.1",
      admin_url    => "${api_url}:8774/v2.1",
      region       => $oci::cluster::region_name,
    }
    class { 'placement::keystone::auth':
      password     => $oci::controller::pass_placement_authtoken,
      public_url   => "${api_url}:8778",
      internal_url => "${api_url}:8778",
      admin_url    => "${api_url}:8778",
      region       => $oci::cluster::region_name,
    }
  }
}
