# oci::profile::databases (the first controller, when the controllers hold the database): one database and
# user per service. Galera copies them to the other members. Services connect through the SQL VIP, so
# HAProxy on the VIP is the client MariaDB sees: users may connect from any host. MariaDB 10.11 names
# OpenStack's "utf8" utf8mb3: asking for that name keeps the runs after the first without changes.
class oci::profile::databases {
  $anywhere = { 'host' => '%', 'charset' => 'utf8mb3', 'collate' => 'utf8mb3_general_ci' }
  class { 'keystone::db::mysql': password => $oci::controller::pass_keystone_db, * => $anywhere }
  class { 'glance::db::mysql': password => $oci::controller::pass_glance_db, * => $anywhere }
  class { 'heat::db::mysql': password => $oci::controller::pass_heat_db, * => $anywhere }
  if $oci::cluster::has_subrole_compute_services {
    class { 'placement::db::mysql': password => $oci::controller::pass_placement_db, * => $anywhere }
    class { 'nova::db::mysql': password => $oci::controller::pass_nova_db, * => $anywhere }
    class { 'nova::db::mysql_api': password => $oci::controller::pass_nova_db, user => 'novaapi', * => $anywhere }
    class { 'neutron::db::mysql': password => $oci::controller::pass_neutron_db, * => $anywhere }
  }
  if $oci::cluster::has_subrole_cinder {
    class { 'cinder::db::mysql': password => $oci::controller::pass_cinder_db, * => $anywhere }
  }
}
