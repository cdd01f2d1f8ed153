# oci::sql: a member of the cluster's Galera. Parameters come from the OCI ENC (docs/enc.md); the
# cluster's values from oci::cluster.
class oci::sql (
  Optional[String]   $machine_ip,
  String             $pass_mysql_root,
) {
  include oci::cluster
  class { 'oci::galera':
    root_password => $pass_mysql_root,
    address       => $machine_ip,
    members       => $oci::cluster::all_sql_ip,
    cluster_name  => $oci::cluster::cluster_name,
  }
}
