# oci::profile::cinder_api (controllers, when there is storage for volumes): the Cinder API and scheduler.
class oci::profile::cinder_api {
  $keystone_url = $oci::cluster::keystone_url

  class { 'cinder::db':
    database_connection => "mysql+pymysql://cinder:${oci::controller::pass_cinder_db}@${oci::cluster::sql_vip_ip}/cinder",
  }
  class { 'cinder':
    default_transport_url => "rabbit://cinder:${oci::controller::pass_cinder_messaging}@${oci::cluster::rabbit_hosts}/",
  }
  class { 'cinder::keystone::authtoken':
    password             => $oci::controller::pass_cinder_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'cinder::api':
    bind_host => $oci::controller::machine_ip,
    sync_db   => $oci::controller::is_first_master,
  }
  class { 'cinder::scheduler': }
}
