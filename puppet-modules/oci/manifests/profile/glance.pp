# oci::profile::glance (controllers): the Glance API, its store from the ENC (ceph: rbd, swift or file).
# Debian runs it under eventlet, which has no TLS of its own since Yoga: it answers HAProxy in clear, on the
# management address.
class oci::profile::glance {
  $keystone_url = $oci::cluster::keystone_url

  class { 'glance::api::db':
    database_connection => "mysql+pymysql://glance:${oci::controller::pass_glance_db}@${oci::cluster::sql_vip_ip}/glance",
  }
  class { 'glance::api::authtoken':
    password             => $oci::controller::pass_glance_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
    memcached_servers    => $oci::cluster::all_masters_ip.map |$ip| { "${ip}:11211" },
  }
  $glance_store = $oci::cluster::glance_backend ? {
    'ceph'  => 'rbd',
    default => $oci::cluster::glance_backend,
  }
  class { 'glance::api':
    bind_host                    => $oci::controller::machine_ip,
    enabled_backends             => ["default:${glance_store}"],
    default_backend              => 'default',
    public_endpoint              => "https://${oci::cluster::vip_hostname}:9292",
    enable_proxy_headers_parsing => true,
    sync_db                      => $oci::controller::is_first_master,
  }
  if $glance_store == 'file' {
    glance::backend::multistore::file { 'default': }
  }
  # In Swift: Glance's own account (its service user, in the services project), reached through the catalog's
  # internal endpoint on the VIP, checked against OCI's CA.
  if $glance_store == 'swift' {
    glance::backend::multistore::swift { 'default':
      swift_store_user                    => 'services:glance',
      swift_store_key                     => $oci::controller::pass_glance_authtoken,
      swift_store_auth_address            => "${keystone_url}/v3",
      swift_store_auth_version            => '3',
      swift_store_create_container_on_put => true,
      swift_store_endpoint_type           => 'internalURL',
    }
    glance_api_config { 'default/swift_store_cacert': value => '/etc/ssl/oci/ca-chain.pem' }
  }
  if $oci::controller::is_first_master {
    class { 'glance::keystone::auth':
      password     => $oci::controller::pass_glance_authtoken,
      public_url   => "https://${oci::cluster::vip_hostname}:9292",
      internal_url => "https://${oci::cluster::vip_hostname}:9292",
      admin_url    => "https://${oci::cluster::vip_hostname}:9292",
      region       => $oci::cluster::region_name,
    }
  }
}
