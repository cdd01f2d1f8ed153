# oci::rabbit: this host as a member of the cluster's RabbitMQ (messaging nodes, or controllers without them).
# Clients reach it over TLS only (port 5671, the host's certificate from OCI's PKI); each OpenStack service
# has its own user. The cookie comes from the ENC: the one the package made at install is replaced, and
# the node's empty database with it.
class oci::rabbit (
  String               $erlang_cookie,
  String               $address,
  Array                $members,
  Hash[String, String] $users = {},
) {
  # RabbitMQ runs as its own user: it gets its own copy of the host's key (oci::generic writes it root-only).
  file { '/etc/rabbitmq/oci-host.key':
    ensure    => file,
    owner     => 'rabbitmq',
    group     => 'rabbitmq',
    mode      => '0600',
    source    => 'file:///etc/ssl/oci/host.key',
    show_diff => false,
    require   => [File['/etc/ssl/oci/host.key'], Package['rabbitmq-server']],
    notify    => Service['rabbitmq-server'],
  }
  class { 'rabbitmq':
    erlang_cookie            => $erlang_cookie,
    wipe_db_on_cookie_change => true,
    config_cluster           => size($members) > 1,
    cluster_nodes            => $members.map |$fqdn| { $fqdn.split('\.')[0] },
    delete_guest_user        => true,
    node_ip_address          => $address,
    repos_ensure             => false,
    manage_python            => false,
    ssl                      => true,
    ssl_only                 => true,
    ssl_port                 => 5671,
    ssl_interface            => $address,
    ssl_cacert               => '/etc/ssl/oci/ca-chain.pem',
    ssl_cert                 => '/etc/ssl/oci/host.pem',
    ssl_key                  => '/etc/rabbitmq/oci-host.key',
    ssl_verify               => 'verify_none',
  }
  $users.each |$user, $password| {
    rabbitmq_user { $user:
      password => $password,
    }
    rabbitmq_user_permissions { "${user}@/":
      configure_permission => '.*',
      read_permission      => '.*',
      write_permission     => '.*',
    }
  }
}
