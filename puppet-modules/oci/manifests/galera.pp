# oci::galera: this host's MariaDB, as a member of the cluster's Galera when the cluster has more than one
# database host (sql nodes, or controllers without them). One database host runs a plain MariaDB: Galera
# needs a peer to form a cluster.
class oci::galera (
  String $root_password,
  String $address,
  Array  $members,
  String $cluster_name,
) {
  $plain = {
    'bind-address'           => $address,
    'default_storage_engine' => 'InnoDB',
    'max_connections'        => '1000',
  }
  $replication = size($members) > 1 ? {
    true    => {
      'wsrep_on'                 => 'ON',
      'wsrep_provider'           => '/usr/lib/galera/libgalera_smm.so',
      'wsrep_cluster_address'    => "gcomm://${join($members, ',')}",
      'wsrep_cluster_name'       => $cluster_name,
      'wsrep_node_address'       => $address,
      'binlog_format'            => 'ROW',
      'innodb_autoinc_lock_mode' => '2',
    },
    default => {},
  }
  class { 'mysql::server':
    root_password    => $root_password,
    restart          => false,
    override_options => { 'mysqld' => $plain + $replication },
  }
  if size($members) > 1 {
    package { 'galera-4': ensure => installed, before => Class['mysql::server::service'] }
  }
}
