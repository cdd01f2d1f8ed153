# oci::swiftproxy: the Swift proxy, behind HAProxy on the API VIP (oci::profile::haproxy on the controllers),
# authenticating with Keystone. It answers in clear on this host's management address (Debian runs it under
# eventlet, without TLS), and caches tokens in a memcached of its own. Its rings come with its install or with
# swift-publish-ring (docs/swift.md). Parameters come from the OCI ENC (docs/enc.md); the cluster's values from
# oci::cluster.
class oci::swiftproxy (
  Optional[String]   $machine_ip,
  String             $pass_swift_authtoken,
  String             $pass_swift_hash_path_prefix,
  String             $pass_swift_hash_path_suffix,
) {
  include oci::cluster
  $memcached = ["${machine_ip}:11211"]

  class { 'memcached':
    listen_ip  => $machine_ip,
    max_memory => '5%',
  }
  class { 'swift':
    swift_hash_path_suffix => $pass_swift_hash_path_suffix,
    swift_hash_path_prefix => $pass_swift_hash_path_prefix,
  }
  class { 'swift::proxy':
    proxy_local_net_ip => $machine_ip,
    port               => String($oci::cluster::swift_port),
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
    memcache_servers => $memcached,
  }
  include swift::proxy::keystone
  Service['memcached'] -> Anchor['swift::service::begin']
}
