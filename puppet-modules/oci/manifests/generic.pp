# oci::generic (every host): its /etc/hosts, NTP, Debian mirror, certificate and SSH access. Parameters come
# from the OCI ENC (docs/enc.md); the cluster's values from oci::cluster.
class oci::generic (
  Array[String]      $etc_hosts,
  String             $machine_role,
  Optional[String]   $machine_ip,
  Optional[String]   $ssl_ca_chain,
  Optional[String]   $ssl_certificate,
  Optional[String]   $ssl_key,
) {
  include oci::cluster
  $cluster_name = $oci::cluster::cluster_name
  $time_server_host = $oci::cluster::time_server_host
  $debian_mirror = $oci::cluster::debian_mirror
  $debian_release = $oci::cluster::debian_release
  $ssh_user_ca = $oci::cluster::ssh_user_ca

  file { '/etc/oci':
    ensure => directory,
    mode   => '0755',
  }
  # /etc/hosts exactly as the install wrote it (oci.netconf.hosts.render): the master as "puppet", the
  # cluster's VIP names, control plane and this host, between OCI 42's markers.
  file { '/etc/hosts':
    ensure  => file,
    mode    => '0644',
    content => join(concat([
      '127.0.0.1 localhost',
      '::1 localhost ip6-localhost ip6-loopback',
      'ff02::1 ip6-allnodes',
      'ff02::2 ip6-allrouters',
      "# OCISTA_MAINTAINED: cluster ${cluster_name}; OCI rewrites the lines down to OCIFIN_MAINTAINED",
    ], $etc_hosts, ['# OCIFIN_MAINTAINED', '']), "\n"),
  }

  package { 'chrony': ensure => installed }
  file { '/etc/chrony/sources.d/oci.sources':
    ensure  => file,
    content => "server ${time_server_host} iburst\n",
    require => Package['chrony'],
    notify  => Service['chrony'],
  }
  service { 'chrony':
    ensure => running,
    enable => true,
  }

  file { '/etc/oci/role':
    ensure  => file,
    content => "${machine_role}\n",
  }
  file { '/etc/oci/my-ip':
    ensure  => file,
    content => "${machine_ip}\n",
  }

  # The host's certificate and key from OCI's PKI, and the chain every service trusts.
  if $ssl_certificate and $ssl_key and $ssl_ca_chain {
    file { '/etc/ssl/oci':
      ensure => directory,
      mode   => '0755',
    }
    file { '/etc/ssl/oci/ca-chain.pem':
      ensure  => file,
      mode    => '0644',
      content => $ssl_ca_chain,
    }
    file { '/etc/ssl/oci/host.pem':
      ensure  => file,
      mode    => '0644',
      content => $ssl_certificate,
    }
    file { '/etc/ssl/oci/host.key':
      ensure    => file,
      mode      => '0600',
      content   => $ssl_key,
      show_diff => false,
    }
  }

  # Debian from the cluster's mirror.
  if $debian_mirror and $debian_release {
    class { 'apt':
      purge => { 'sources.list' => false, 'sources.list.d' => false },
    }
    apt::source { 'oci-debian':
      location => $debian_mirror,
      release  => $debian_release,
      repos    => 'main',
    }
  }

  # root logs in with keys signed by the cluster's SSH user CA (oci-pki ssh-sign-user), not with passwords.
  if $ssh_user_ca {
    file { '/etc/ssh/oci_user_ca.pub':
      ensure  => file,
      mode    => '0644',
      content => "${ssh_user_ca}\n",
    }
    file { '/etc/ssh/sshd_config.d/oci.conf':
      ensure  => file,
      mode    => '0644',
      content => "TrustedUserCAKeys /etc/ssh/oci_user_ca.pub\nPasswordAuthentication no\nPermitRootLogin prohibit-password\n",
      require => File['/etc/ssh/oci_user_ca.pub'],
    }
  }
}
