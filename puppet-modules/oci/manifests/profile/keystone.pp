# oci::profile::keystone (controllers): memcached and Keystone (Debian's uwsgi service, on the management
# address: HAProxy holds the port on the VIP), with the Fernet and credential keys from the ENC; the first
# master bootstraps it, with the endpoints of the API VIP over HTTPS.
class oci::profile::keystone {
  $keystone_url = $oci::cluster::keystone_url

  class { 'memcached':
    listen_ip  => $oci::controller::machine_ip,
    max_memory => '5%',
  }
  class { 'keystone::db':
    database_connection => "mysql+pymysql://keystone:${oci::controller::pass_keystone_db}@${oci::cluster::sql_vip_ip}/keystone",
  }
  class { 'keystone':
    public_endpoint              => $keystone_url,
    enable_proxy_headers_parsing => true,
    enable_fernet_setup          => true,
    fernet_keys                  => {
      '/etc/keystone/fernet-keys/0' => { 'content' => $oci::controller::pass_keystone_fernet_0 },
      '/etc/keystone/fernet-keys/1' => { 'content' => $oci::controller::pass_keystone_fernet_1 },
    },
    credential_keys              => {
      '/etc/keystone/credential-keys/0' => { 'content' => $oci::controller::pass_keystone_credential_0 },
      '/etc/keystone/credential-keys/1' => { 'content' => $oci::controller::pass_keystone_credential_1 },
    },
    sync_db                      => $oci::controller::is_first_master,
  }
  oci::uwsgi_api { 'keystone': project => 'keystone', port => 5000, address => $oci::controller::machine_ip }
  if $oci::controller::is_first_master {
    class { 'keystone::bootstrap':
      password     => $oci::controller::pass_keystone_admin,
      public_url   => $keystone_url,
      internal_url => $keystone_url,
      admin_url    => $keystone_url,
      region       => $oci::cluster::region_name,
    }
    # Puppet makes the users, projects and endpoints through the VIP: once Keystone answers there. A restarted
    # Keystone takes seconds to load, and HAProxy to see it back; the providers would give up sooner.
    exec { 'oci-keystone-answers':
      command   => "curl --silent --fail --output /dev/null ${keystone_url}/v3",
      path      => ['/usr/bin', '/bin'],
      tries     => 60,
      try_sleep => 5,
      require   => [Anchor['keystone::service::end'], Service['haproxy'], Service['keepalived']],
    }
    Exec['oci-keystone-answers'] -> Keystone_domain <||>
    Exec['oci-keystone-answers'] -> Keystone_role <||>
    Exec['oci-keystone-answers'] -> Keystone_tenant <||>
    Exec['oci-keystone-answers'] -> Keystone_user <||>
    Exec['oci-keystone-answers'] -> Keystone_user_role <||>
    Exec['oci-keystone-answers'] -> Keystone_service <||>
    Exec['oci-keystone-answers'] -> Keystone_endpoint <||>
  }
}
