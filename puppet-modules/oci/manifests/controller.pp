# oci::controller: parameters come from the OCI ENC (docs/enc.md).
class oci::controller (
  Array              $all_masters = [],
  Array              $all_masters_ip = [],
  Array              $all_rabbits = [],
  Array              $all_rabbits_ips = [],
  Array              $all_sql = [],
  Array              $all_sql_ip = [],
  Array              $all_swiftproxy = [],
  Array              $all_swiftproxy_ip = [],
  Boolean            $bgp_to_the_host = false,
  Array              $ceph_mon_host = [],
  Array              $ceph_mon_initial_members = [],
  Optional[String]   $cinder_backup_backend = undef,
  Optional[String]   $cluster_domain = undef,
  Boolean            $cluster_has_mons = false,
  Boolean            $cluster_has_osds = false,
  Optional[String]   $cluster_name = undef,
  Array              $compute_nodes = [],
  Array              $compute_nodes_ip = [],
  Optional[String]   $first_master = undef,
  Optional[String]   $first_master_ip = undef,
  Optional[String]   $first_sql = undef,
  Optional[String]   $first_sql_ip = undef,
  Optional[String]   $glance_backend = undef,
  Boolean            $has_subrole_cinder = false,
  Boolean            $has_subrole_compute_services = false,
  Boolean            $has_subrole_db = false,
  Boolean            $has_subrole_messaging = false,
  Boolean            $has_subrole_network_node = false,
  Boolean            $has_subrole_swift = false,
  Boolean            $initial_cluster_setup = false,
  Boolean            $install_designate = false,
  Boolean            $install_octavia = false,
  Boolean            $install_telemetry = false,
  Boolean            $is_first_master = false,
  Boolean            $is_first_sql = false,
  Optional[String]   $machine_hostname = undef,
  Optional[String]   $machine_ip = undef,
  Optional[String]   $messaging_vip_ipaddr = undef,
  Optional[Integer]  $network_cidr = undef,
  Optional[String]   $network_ipaddr = undef,
  Optional[String]   $openstack_release = undef,
  Optional[String]   $pass_aodh_authtoken = undef,
  Optional[String]   $pass_aodh_db = undef,
  Optional[String]   $pass_aodh_messaging = undef,
  Optional[String]   $pass_barbican_authtoken = undef,
  Optional[String]   $pass_barbican_db = undef,
  Optional[String]   $pass_barbican_messaging = undef,
  Optional[String]   $pass_ceph_admin_key = undef,
  Optional[String]   $pass_ceph_bootstrap_osd_key = undef,
  Optional[String]   $pass_ceph_fsid = undef,
  Optional[String]   $pass_ceph_libvirt_uuid = undef,
  Optional[String]   $pass_ceph_mgr_key = undef,
  Optional[String]   $pass_ceph_mon_key = undef,
  Optional[String]   $pass_ceph_openstack_key = undef,
  Optional[String]   $pass_cinder_authtoken = undef,
  Optional[String]   $pass_cinder_db = undef,
  Optional[String]   $pass_cinder_messaging = undef,
  Optional[String]   $pass_glance_authtoken = undef,
  Optional[String]   $pass_glance_db = undef,
  Optional[String]   $pass_glance_messaging = undef,
  Optional[String]   $pass_gnocchi_authtoken = undef,
  Optional[String]   $pass_gnocchi_db = undef,
  Optional[String]   $pass_gnocchi_messaging = undef,
  Optional[String]   $pass_haproxy_stats = undef,
  Optional[String]   $pass_heat_authtoken = undef,
  Optional[String]   $pass_heat_db = undef,
  Optional[String]   $pass_heat_encryption_key = undef,
  Optional[String]   $pass_heat_messaging = undef,
  Optional[String]   $pass_horizon_secret_key = undef,
  Optional[String]   $pass_keepalived_vrrp = undef,
  Optional[String]   $pass_keystone_admin = undef,
  Optional[String]   $pass_keystone_authtoken = undef,
  Optional[String]   $pass_keystone_credential_0 = undef,
  Optional[String]   $pass_keystone_credential_1 = undef,
  Optional[String]   $pass_keystone_db = undef,
  Optional[String]   $pass_keystone_fernet_0 = undef,
  Optional[String]   $pass_keystone_fernet_1 = undef,
  Optional[String]   $pass_keystone_messaging = undef,
  Optional[String]   $pass_metadata_proxy_shared_secret = undef,
  Optional[String]   $pass_mysql_backup = undef,
  Optional[String]   $pass_mysql_root = undef,
  Optional[String]   $pass_neutron_authtoken = undef,
  Optional[String]   $pass_neutron_db = undef,
  Optional[String]   $pass_neutron_messaging = undef,
  Optional[String]   $pass_neutron_vrrp = undef,
  Optional[String]   $pass_nova_authtoken = undef,
  Optional[String]   $pass_nova_db = undef,
  Optional[String]   $pass_nova_messaging = undef,
  Optional[String]   $pass_octavia_authtoken = undef,
  Optional[String]   $pass_octavia_db = undef,
  Optional[String]   $pass_octavia_messaging = undef,
  Optional[String]   $pass_placement_authtoken = undef,
  Optional[String]   $pass_placement_db = undef,
  Optional[String]   $pass_placement_messaging = undef,
  Optional[String]   $pass_rabbitmq_cookie = undef,
  Optional[String]   $pass_swift_authtoken = undef,
  Optional[String]   $region_name = undef,
  Boolean            $self_signed_api_cert = false,
  Optional[String]   $sql_vip_ip = undef,
  Optional[String]   $vip_hostname = undef,
  Optional[String]   $vip_ipaddr = undef,
  Optional[String]   $vip_netmask = undef,
  Array              $volume_nodes = [],
) {
  $api = "https://${vip_hostname}"
  $keystone_url = "${api}:5000"
  $transport = join($all_rabbits.map |$host| { "${host}:5671" }, ',')

  # Database (Galera) when there is no sql node, and RabbitMQ when there is no messaging node.
  if $has_subrole_db {
    class { 'oci::galera':
      root_password => $pass_mysql_root,
      address       => $machine_ip,
      members       => $all_sql_ip,
      cluster_name  => $cluster_name,
    }
  }
  if $has_subrole_messaging {
    class { 'oci::rabbit':
      erlang_cookie => $pass_rabbitmq_cookie,
      address       => $machine_ip,
      members       => $all_rabbits,
    }
  }
  class { 'memcached':
    listen_ip => $machine_ip,
  }

  # Keystone behind Apache
  class { 'keystone::db':
    database_connection => "mysql+pymysql://keystone:${pass_keystone_db}@${sql_vip_ip}/keystone",
  }
  class { 'keystone':
    service_name        => 'httpd',
    enable_fernet_setup => true,
    fernet_keys         => {
      '/etc/keystone/fernet-keys/0' => { 'content' => $pass_keystone_fernet_0 },
      '/etc/keystone/fernet-keys/1' => { 'content' => $pass_keystone_fernet_1 },
    },
    credential_keys     => {
      '/etc/keystone/credential-keys/0' => { 'content' => $pass_keystone_credential_0 },
      '/etc/keystone/credential-keys/1' => { 'content' => $pass_keystone_credential_1 },
    },
    sync_db             => $is_first_master,
  }
  class { 'keystone::wsgi::apache':
    bind_host => $machine_ip,
    ssl       => false,
  }
  if $is_first_master {
    class { 'keystone::bootstrap':
      password   => $pass_keystone_admin,
      public_url => $keystone_url,
      admin_url  => $keystone_url,
      region     => $region_name,
    }
  }

  # Glance
  class { 'glance::api::db':
    database_connection => "mysql+pymysql://glance:${pass_glance_db}@${sql_vip_ip}/glance",
  }
  class { 'glance::api::authtoken':
    password             => $pass_glance_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
    memcached_servers    => $all_masters_ip.map |$ip| { "${ip}:11211" },
  }
  $glance_store = $glance_backend ? {
    'ceph'  => 'rbd',
    default => $glance_backend,
  }
  class { 'glance::api':
    bind_host        => $machine_ip,
    enabled_backends => ["default:${glance_store}"],
    default_backend  => 'default',
  }

  # Placement and the Nova control plane, when there are computes
  if $has_subrole_compute_services {
    class { 'placement::db':
      database_connection => "mysql+pymysql://placement:${pass_placement_db}@${sql_vip_ip}/placement",
    }
    class { 'placement::keystone::authtoken':
      password             => $pass_placement_authtoken,
      www_authenticate_uri => $keystone_url,
      auth_url             => $keystone_url,
    }
    class { 'placement': }
    class { 'placement::api': }
    class { 'placement::wsgi::apache':
      bind_host => $machine_ip,
      ssl       => false,
    }

    class { 'nova::db':
      database_connection     => "mysql+pymysql://nova:${pass_nova_db}@${sql_vip_ip}/nova",
      api_database_connection => "mysql+pymysql://novaapi:${pass_nova_db}@${sql_vip_ip}/nova_api",
    }
    class { 'nova':
      default_transport_url => "rabbit://nova:${pass_nova_messaging}@${transport}/",
    }
    class { 'nova::keystone::authtoken':
      password             => $pass_nova_authtoken,
      www_authenticate_uri => $keystone_url,
      auth_url             => $keystone_url,
    }
    class { 'nova::api':
      api_bind_address => $machine_ip,
      sync_db          => $is_first_master,
      sync_db_api      => $is_first_master,
    }
    class { 'nova::placement':
      password    => $pass_placement_authtoken,
      auth_url    => $keystone_url,
      region_name => $region_name,
    }
    class { 'nova::conductor': }
    class { 'nova::scheduler': }

    # Neutron server (and, without network nodes, the L3 and DHCP agents)
    class { 'neutron':
      default_transport_url => "rabbit://neutron:${pass_neutron_messaging}@${transport}/",
      core_plugin           => 'ml2',
      service_plugins       => ['router'],
    }
    class { 'neutron::db':
      database_connection => "mysql+pymysql://neutron:${pass_neutron_db}@${sql_vip_ip}/neutron",
    }
    class { 'neutron::keystone::authtoken':
      password             => $pass_neutron_authtoken,
      www_authenticate_uri => $keystone_url,
      auth_url             => $keystone_url,
    }
    class { 'neutron::server':
      sync_db => $is_first_master,
    }
    class { 'neutron::server::notifications::nova':
      password => $pass_nova_authtoken,
      auth_url => $keystone_url,
    }
    class { 'neutron::plugins::ml2':
      type_drivers         => ['flat', 'vlan', 'vxlan'],
      tenant_network_types => ['vxlan'],
      mechanism_drivers    => ['openvswitch', 'l2population'],
    }
    if $has_subrole_network_node {
      class { 'neutron::agents::l3': }
      class { 'neutron::agents::metadata':
        shared_secret => $pass_metadata_proxy_shared_secret,
      }
    }
  }

  # Cinder API and scheduler, when there is storage for volumes
  if $has_subrole_cinder {
    class { 'cinder::db':
      database_connection => "mysql+pymysql://cinder:${pass_cinder_db}@${sql_vip_ip}/cinder",
    }
    class { 'cinder':
      default_transport_url => "rabbit://cinder:${pass_cinder_messaging}@${transport}/",
    }
    class { 'cinder::keystone::authtoken':
      password             => $pass_cinder_authtoken,
      www_authenticate_uri => $keystone_url,
      auth_url             => $keystone_url,
    }
    class { 'cinder::api':
      bind_host => $machine_ip,
      sync_db   => $is_first_master,
    }
    class { 'cinder::scheduler': }
  }

  # Heat and the dashboard
  class { 'heat::keystone::authtoken':
    password             => $pass_heat_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'heat::db':
    database_connection => "mysql+pymysql://heat:${pass_heat_db}@${sql_vip_ip}/heat",
  }
  class { 'heat':
    default_transport_url => "rabbit://heat:${pass_heat_messaging}@${transport}/",
  }
  class { 'heat::api':
    bind_host => $machine_ip,
  }
  class { 'heat::engine':
    auth_encryption_key => $pass_heat_encryption_key,
  }
  class { 'horizon':
    secret_key       => $pass_horizon_secret_key,
    allowed_hosts    => [$vip_hostname, $machine_hostname],
    keystone_url     => "${keystone_url}/v3",
    cache_server_ip  => $all_masters_ip,
    servername       => $machine_hostname,
  }

  # The API VIP moves between controllers with VRRP (keepalived); the first master starts as its owner.
  package { 'keepalived': ensure => installed }
  file { '/etc/keepalived/keepalived.conf':
    ensure    => file,
    mode      => '0600',
    show_diff => false,
    content   => join([
      'vrrp_instance oci_api {',
      "  state ${if $is_first_master { 'MASTER' } else { 'BACKUP' }}",
      "  interface ${if $bgp_to_the_host { 'lo' } else { 'eth0' }}",
      '  virtual_router_id 51',
      "  priority ${if $is_first_master { 150 } else { 100 }}",
      '  authentication {',
      '    auth_type PASS',
      "    auth_pass ${pass_keepalived_vrrp}",
      '  }',
      "  virtual_ipaddress { ${vip_ipaddr} }",
      '}',
      '',
    ], "\n"),
    require   => Package['keepalived'],
    notify    => Service['keepalived'],
  }
  service { 'keepalived':
    ensure => running,
    enable => true,
  }

  # HAProxy in front of the APIs, on the VIP
  class { 'haproxy': }
  $apis = {
    'keystone' => 5000,
    'glance'   => 9292,
    'heat'     => 8004,
  } + ($has_subrole_compute_services ? {
    true    => { 'nova' => 8774, 'placement' => 8778, 'neutron' => 9696 },
    default => {},
  }) + ($has_subrole_cinder ? {
    true    => { 'cinder' => 8776 },
    default => {},
  })
  $apis.each |$service, $port| {
    haproxy::listen { $service:
      ipaddress => $vip_ipaddr,
      ports     => String($port),
      options   => { 'balance' => 'roundrobin', 'option' => ['httpchk'] },
    }
    haproxy::balancermember { "${service}-masters":
      listening_service => $service,
      ports             => String($port),
      server_names      => $all_masters,
      ipaddresses       => $all_masters_ip,
      options           => 'check',
    }
  }
}
