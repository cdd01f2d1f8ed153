# oci::rabbit: this host as a member of the cluster's RabbitMQ (messaging nodes, or controllers without them).
class oci::rabbit (
  String $erlang_cookie,
  String $address,
  Array  $members,
) {
  class { 'rabbitmq':
    erlang_cookie     => $erlang_cookie,
    config_cluster    => true,
    cluster_nodes     => $members,
    delete_guest_user => true,
    node_ip_address   => $address,
    repos_ensure      => false,
    manage_python     => false,
  }
}
