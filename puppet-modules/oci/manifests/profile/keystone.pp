# oci::profile::keystone (controllers): memcached and Keystone behind Apache, with the Fernet and credential
# keys from the ENC; the first master bootstraps it.
class oci::profile::keystone {
  $keystone_url = $oci::cluster::keystone_url

  class { 'memcached':
    listen_ip => $oci::controller::machine_ip,
  }
  class { 'keystone::db':
    database_connection => "mysql+pymysql://keystone:${oci::controller::pass_keystone_db}@${oci::cluster::sql_vip_ip}/keystone",
  }
  class { 'keystone':
    service_name        => 'httpd',
    enable_fernet_setup => true,
    fernet_keys         => {
      '/etc/keystone/fernet-keys/0' => { 'content' => $oci::controller::pass_keystone_fernet_0 },
      '/etc/keystone/fernet-keys/1' => { 'content' => $oci::controller::pass_keystone_fernet_1 },
    },
    credential_keys     => {
      '/etc/keystone/credential-keys/0' => { 'content' => $oci::controller::pass_keystone_credential_0 },
      '/etc/keystone/credential-keys/1' => { 'content' => $oci::controller::pass_keystone_credential_1 },
    },
    sync_db             => $oci::controller::is_first_master,
  }
  class { 'keystone::wsgi::apache':
    bind_host => $oci::controller::machine_ip,
    ssl       => false,
  }
  if $oci::controller::is_first_master {
    class { 'keystone::bootstrap':
      password   => $oci::controller::pass_keystone_admin,
      public_url => $keystone_url,
      admin_url  => $keystone_url,
      region     => $oci::cluster::region_name,
    }
  }
}
