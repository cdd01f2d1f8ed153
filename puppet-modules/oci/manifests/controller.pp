# oci::controller: the control plane, one profile per service (oci::profile::*). Parameters come from the
# OCI ENC (docs/enc.md): this host's name, address (and the device it is on) and role in the bootstrap, and the
# controllers' secrets; the cluster's values from oci::cluster. The profiles read both as
# $oci::controller::<name> and $oci::cluster::<name>.
class oci::controller (
  String             $machine_hostname,
  Optional[String]   $machine_ip,
  Optional[String]   $machine_iface,
  String             $external_network_name,
  Boolean            $is_first_master,
  Optional[String]   $api_ssl_certificate,
  Optional[String]   $api_ssl_key,
  String             $pass_cinder_authtoken,
  String             $pass_cinder_db,
  String             $pass_cinder_messaging,
  String             $pass_glance_authtoken,
  String             $pass_glance_db,
  String             $pass_heat_authtoken,
  String             $pass_heat_db,
  String             $pass_heat_encryption_key,
  String             $pass_heat_messaging,
  String             $pass_horizon_secret_key,
  String             $pass_keepalived_vrrp,
  String             $pass_keystone_admin,
  String             $pass_keystone_credential_0,
  String             $pass_keystone_credential_1,
  String             $pass_keystone_db,
  String             $pass_keystone_fernet_0,
  String             $pass_keystone_fernet_1,
  String             $pass_metadata_proxy_shared_secret,
  String             $pass_mysql_root,
  String             $pass_neutron_authtoken,
  String             $pass_neutron_db,
  String             $pass_neutron_messaging,
  String             $pass_nova_authtoken,
  String             $pass_nova_db,
  String             $pass_nova_messaging,
  String             $pass_placement_authtoken,
  String             $pass_placement_db,
  String             $pass_rabbitmq_cookie,
  String             $pass_swift_authtoken,
) {
  include oci::cluster

  # Held at install until Puppet has configured them (and synced their schemas).
  class { 'oci::held_services':
    services => ['keystone', 'glance-api', 'placement-api', 'nova-api', 'nova-api-metadata', 'nova-conductor',
                 'nova-scheduler', 'nova-novncproxy', 'neutron-api', 'neutron-rpc-server', 'neutron-dhcp-agent',
                 'neutron-l3-agent', 'neutron-metadata-agent', 'neutron-linuxbridge-agent', 'neutron-openvswitch-agent',
                 'cinder-api', 'cinder-scheduler', 'heat-api', 'heat-api-cfn', 'heat-engine'],
  }

  # Database (Galera) when there is no sql node, and RabbitMQ when there is no messaging node.
  if $oci::cluster::has_subrole_db {
    class { 'oci::galera':
      root_password => $pass_mysql_root,
      address       => $machine_ip,
      members       => $oci::cluster::all_sql_ip,
      cluster_name  => $oci::cluster::cluster_name,
    }
    if $is_first_master {
      include oci::profile::databases
    }
  }
  if $oci::cluster::has_subrole_messaging {
    class { 'oci::rabbit':
      erlang_cookie => $pass_rabbitmq_cookie,
      address       => $machine_ip,
      members       => $oci::cluster::all_rabbits,
      users         => {
        'nova'    => $pass_nova_messaging,
        'neutron' => $pass_neutron_messaging,
        'cinder'  => $pass_cinder_messaging,
        'heat'    => $pass_heat_messaging,
      },
    }
  }

  # The services reach MariaDB and Keystone through the VIP: HAProxy and the VIP are up before the first
  # schema is synced (the APIs' packages did not start them on the VIP's ports: see the policy above). Every
  # sync of a project (Nova has three: API, cells, main) waits on its ::db::end anchor.
  include oci::profile::vip
  include oci::profile::haproxy
  ['keystone', 'glance', 'placement', 'nova', 'neutron', 'heat', 'cinder'].each |$project| {
    [Service['haproxy'], Service['keepalived']] -> Anchor <| title == "${project}::db::end" |>
  }
  # The daemons authenticate to Keystone as they start (Nova's conductor asks Placement at once): on the first
  # master, their service users exist before they start, or the start fails.
  if $is_first_master {
    ['glance', 'placement', 'nova', 'neutron', 'heat', 'cinder'].each |$project| {
      Keystone_user <||> -> Anchor <| title == "${project}::service::begin" |>
      Keystone_user_role <||> -> Anchor <| title == "${project}::service::begin" |>
    }
  }
  include oci::profile::keystone
  include oci::profile::glance
  # Placement, the Nova control plane and the Neutron server, when there are computes.
  if $oci::cluster::has_subrole_compute_services {
    include oci::profile::nova_api
    include oci::profile::neutron_server
  }
  # Cinder API and scheduler, when there is storage for volumes.
  if $oci::cluster::has_subrole_cinder {
    include oci::profile::cinder_api
  }
  include oci::profile::heat
  include oci::profile::horizon
  if $oci::cluster::has_swift {
    include oci::profile::swift
  }

  # The first master syncs the schemas: a first run that fails before a sync does not leave it undone for good.
  if $is_first_master {
    oci::schema_sync { ['keystone', 'glance', 'heat']: }
    if $oci::cluster::has_subrole_compute_services {
      oci::schema_sync { ['placement', 'neutron']: }
      oci::schema_sync { 'nova': sync_begins => ['nova::dbsync_api::begin', 'nova::dbsync::begin'] }
    }
    if $oci::cluster::has_subrole_cinder {
      oci::schema_sync { 'cinder': }
    }
  }
}
