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
  }
  class { 'heat':
    default_transport_url => "rabbit://heat:${oci::controller::pass_heat_messaging}@${oci::cluster::rabbit_hosts}/",
  }
  class { 'heat::api':
    bind_host => $oci::controller::machine_ip,
  }
  class { 'heat::engine':
    auth_encryption_key => $oci::controller::pass_heat_encryption_key,
  }
}
