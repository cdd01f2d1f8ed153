# oci::profile::cinder_api (controllers, when there is storage for volumes): the Cinder API and scheduler.
class oci::profile::cinder_api {
  $keystone_url = $oci::cluster::keystone_url

  class { 'cinder::db':
    database_connection => "mysql+pymysql://cinder:${oci::controller::pass_cinder_db}@${oci::cluster::sql_vip_ip}/cinder",
  }
  class { 'cinder':
    default_transport_url => "rabbit://cinder:${oci::controller::pass_cinder_messaging}@${oci::cluster::rabbit_hosts}/",
    *                     => $oci::cluster::messaging_tls,
  }
  class { 'cinder::keystone::authtoken':
    password             => $oci::controller::pass_cinder_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  oci::uwsgi_api { 'cinder-api': project => 'cinder', port => 8776, address => $oci::controller::machine_ip }
  class { 'cinder::api':
    public_endpoint              => "${oci::cluster::api_url}:8776",
    enable_proxy_headers_parsing => true,
    sync_db                      => $oci::controller::is_first_master,
  }
  class { 'cinder::scheduler': }
  if $oci::controller::is_first_master {
    class { 'cinder::keystone::auth':
      password        => $oci::controller::pass_cinder_authtoken,
      public_url_v3   => "${oci::cluster::api_url}:8776/v3",
      internal_url_v3 => "${oci::cluster::api_url}:8776/v3",
      admin_url_v3    => "${oci::cluster::api_url}:8776/v3",
      region          => $oci::cluster::region_name,
    }
  }
}
