# oci::cluster: the values that are the same for every host of a cluster, from the OCI ENC (docs/enc.md).
# The ENC sends them once, as this class's parameters; role classes and profiles include this class and
# read them as $oci::cluster::<name> (docs/puppet.md says why a class rather than top-scope variables).
class oci::cluster (
  String                   $region_name,
  String                   $cluster_name,
  String                   $vip_hostname,
  Optional[String]         $vip_ipaddr,
  Array[String]            $all_masters,
  Array[Optional[String]]  $all_masters_ip,
  Optional[String]         $sql_vip_ip,
  Array[Optional[String]]  $all_sql_ip,
  Array[String]            $all_rabbits,
  Boolean                  $has_subrole_db,
  Boolean                  $has_subrole_messaging,
  Boolean                  $has_subrole_network_node,
  Boolean                  $has_subrole_compute_services,
  Boolean                  $has_subrole_cinder,
  Array[String]            $ceph_mon_initial_members,
  Array[Optional[String]]  $ceph_mon_host,
  Enum['ceph', 'swift', 'file'] $glance_backend,
  Boolean                  $bgp_to_the_host,
  String                   $time_server_host,
  Optional[String]         $debian_mirror,
  Optional[String]         $debian_release,
  Optional[String]         $ssh_user_ca,
  Enum['openvswitch', 'linuxbridge'] $neutron_l2_agent,
  Integer                  $neutron_vxlan_vni_min,
  Integer                  $neutron_vxlan_vni_max,
  Array[String]            $external_network_names,
  Array[String]            $all_swiftproxy,
  Array[Optional[String]]  $all_swiftproxy_ip,
) {
  # RabbitMQ's members as a transport URL's host list (every OpenStack service's default_transport_url).
  $rabbit_hosts = join($all_rabbits.map |$host| { "${host}:5671" }, ',')
  $keystone_url = "https://${vip_hostname}:5000"
  # Every OpenStack service's client side of RabbitMQ: TLS, checked against OCI's CA (oci::rabbit).
  $messaging_tls = { 'rabbit_use_ssl' => true, 'kombu_ssl_ca_certs' => '/etc/ssl/oci/ca-chain.pem' }
  # The API VIP's name, as every endpoint in the catalog starts.
  $api_url = "https://${vip_hostname}"
  # Swift's proxies answer on this port behind HAProxy on the VIP, and Keystone's catalog has Swift when there are some.
  $swift_port = 8080
  $has_swift = !empty($all_swiftproxy)
  $swift_url = "https://${vip_hostname}:${swift_port}"
}
