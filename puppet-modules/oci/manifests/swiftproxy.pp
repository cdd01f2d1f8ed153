# oci::swiftproxy: parameters come from the OCI ENC (docs/enc.md).
class oci::swiftproxy (
  Array              $all_masters = [],
  Array              $all_masters_ip = [],
  Array              $all_swiftproxy = [],
  Array              $all_swiftproxy_ip = [],
  Array              $all_swiftstore = [],
  Array              $all_swiftstore_ip = [],
  Optional[String]   $cluster_domain = undef,
  Optional[String]   $cluster_name = undef,
  Optional[String]   $first_master = undef,
  Optional[String]   $first_master_ip = undef,
  Boolean            $is_first_master = false,
  Optional[String]   $machine_hostname = undef,
  Optional[String]   $machine_ip = undef,
  Optional[Integer]  $network_cidr = undef,
  Optional[String]   $network_ipaddr = undef,
  Optional[String]   $pass_haproxy_stats = undef,
  Optional[String]   $pass_swift_authtoken = undef,
  Optional[String]   $pass_swift_hash_path_prefix = undef,
  Optional[String]   $pass_swift_hash_path_suffix = undef,
  Optional[String]   $region_name = undef,
  Boolean            $self_signed_api_cert = false,
  Optional[String]   $vip_hostname = undef,
  Optional[String]   $vip_ipaddr = undef,
  Optional[String]   $zone = undef,
) {
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
    www_authenticate_uri => "https://${vip_hostname}:5000",
    auth_url             => "https://${vip_hostname}:5000",
  }
  include swift::proxy::catch_errors
  include swift::proxy::healthcheck
  class { 'swift::proxy::cache':
    memcache_servers => ["${machine_ip}:11211"],
  }
  include swift::proxy::keystone
}
