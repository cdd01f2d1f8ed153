# oci::profile::nova_api (controllers, when there are computes): Placement and the Nova API, conductor and
# scheduler.
class oci::profile::nova_api {
  $keystone_url = $oci::cluster::keystone_url
  $sql = $oci::cluster::sql_vip_ip

  class { 'placement::db':
    database_connection => "mysql+pymysql://placement:${oci::controller::pass_placement_db}@${sql}/placement",
  }
  class { 'placement::keystone::authtoken':
    password             => $oci::controller::pass_placement_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'placement': }
  class { 'placement::api': }
  class { 'placement::wsgi::apache':
    bind_host => $oci::controller::machine_ip,
    ssl       => false,
  }

  class { 'nova::db':
    database_connection     => "mysql+pymysql://nova:${oci::controller::pass_nova_db}@${sql}/nova",
    api_database_connection => "mysql+pymysql://novaapi:${oci::controller::pass_nova_db}@${sql}/nova_api",
  }
  class { 'nova':
    default_transport_url => "rabbit://nova:${oci::controller::pass_nova_messaging}@${oci::cluster::rabbit_hosts}/",
  }
  class { 'nova::keystone::authtoken':
    password             => $oci::controller::pass_nova_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'nova::api':
    api_bind_address => $oci::controller::machine_ip,
    sync_db          => $oci::controller::is_first_master,
    sync_db_api      => $oci::controller::is_first_master,
  }
  class { 'nova::placement':
    password    => $oci::controller::pass_placement_authtoken,
    auth_url    => $keystone_url,
    region_name => $oci::cluster::region_name,
  }
  class { 'nova::conductor': }
  class { 'nova::scheduler': }
}
