# oci::profile::heat (controllers): the Heat API and engine.
class oci::profile::heat {
  $keystone_url = $oci::cluster::keystone_url

  class { 'heat::keystone::authtoken':
    password             => $oci::controller::pass_heat_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'heat::db':
    database_connection => "mysql+pymysql://heat:${oci::controller::pass_heat_db}@${oci::cluster::sql_vip_ip}/heat",
    sync_db             => $oci::controller::is_first_master,  # one master syncs, as for every other project
  }
  class { 'heat':
    default_transport_url        => "rabbit://heat:${oci::controller::pass_heat_messaging}@${oci::cluster::rabbit_hosts}/",
    enable_proxy_headers_parsing => true,
    *                            => $oci::cluster::messaging_tls,
  }
  oci::uwsgi_api { 'heat-api': project => 'heat', port => 8004, address => $oci::controller::machine_ip }
  class { 'heat::api': }
  class { 'heat::engine':
    auth_encryption_key => $oci::controller::pass_heat_encryption_key,
  }
  if $oci::controller::is_first_master {
    class { 'heat::keystone::auth':
      password     => $oci::controller::pass_heat_authtoken,
      public_url   => "${oci::cluster::api_url}:8004/v1/%(tenant_id)s",
      internal_url => "${oci::cluster::api_url}:8004/v1/%(tenant_id)s",
      admin_url    => "${oci::cluster::api_url}:8004/v1/%(tenant_id)s",
      region       => $oci::cluster::region_name,
    }
  }
}
