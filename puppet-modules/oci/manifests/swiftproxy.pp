# oci::swiftproxy: the Swift proxy. Parameters come from the OCI ENC
# (docs/enc.md); the cluster's values from oci::cluster.
class oci::swiftproxy (
  Optional[String]   $machine_ip,
  String             $pass_swift_authtoken,
  String             $pass_swift_hash_path_prefix,
  String             $pass_swift_hash_path_suffix,
) {
  include oci::cluster
  class { 'swift':
    swift_hash_path_suffix => $pass_swift_hash_path_suffix,
    swift_hash_path_prefix => $pass_swift_hash_path_prefix,
  }
  class { 'swift::proxy':
    proxy_local_net_ip => $machine_ip,
    pipeline           => ['catch_errors', 'healthcheck', 'cache', 'authtoken', 'keystone', 'proxy-server'],
  }
  class { 'swift::proxy::authtoken':
    password             => $pass_swift_authtoken,
    www_authenticate_uri => $oci::cluster::keystone_url,
    auth_url             => $oci::cluster::keystone_url,
  }
  include swift::proxy::catch_errors
  include swift::proxy::healthcheck
  class { 'swift::proxy::cache':
    memcache_servers => ["${machine_ip}:11211"],
  }
  include swift::proxy::keystone
}
