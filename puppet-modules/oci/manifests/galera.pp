# oci::galera: this host as a member of the cluster's Galera database (sql nodes, or controllers without them).
class oci::galera (
  String $root_password,
  String $address,
  Array  $members,
  String $cluster_name,
) {
  class { 'mysql::server':
    root_password    => $root_password,
    restart          => false,
    override_options => {
      'mysqld' => {
        'bind-address'             => $address,
        'wsrep_on'                 => 'ON',
        'wsrep_cluster_address'    => "gcomm://${join($members, ',')}",
        'wsrep_cluster_name'       => $cluster_name,
        'wsrep_node_address'       => $address,
        'binlog_format'            => 'ROW',
        'default_storage_engine'   => 'InnoDB',
        'innodb_autoinc_lock_mode' => '2',
      },
    },
  }
}
