# oci::messaging: a member of the cluster's RabbitMQ. Parameters come from the OCI ENC (docs/enc.md); the
# cluster's values from oci::cluster.
class oci::messaging (
  Optional[String]   $machine_ip,
  String             $pass_rabbitmq_cookie,
) {
  include oci::cluster
  class { 'oci::rabbit':
    erlang_cookie => $pass_rabbitmq_cookie,
    address       => $machine_ip,
    members       => $oci::cluster::all_rabbits,
  }
}
