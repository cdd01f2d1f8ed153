# oci::profile::vip (controllers): the API VIP moves between controllers with VRRP (keepalived); the first
# master starts as its owner. HAProxy binds the VIP on every controller, the ones without it too.
class oci::profile::vip {
  $first = $oci::controller::is_first_master
  # VRRP speaks on the device that holds the management address (a NIC, a bond, a VLAN or a bridge: as
  # oci-netconf made it), or on lo where the host routes to its top-of-rack switch (BGP to the host).
  if $oci::cluster::bgp_to_the_host {
    $vrrp_iface = 'lo'
  } elsif $oci::controller::machine_iface =~ Undef {
    fail("oci::profile::vip: no device is known for ${oci::controller::machine_hostname}'s management address (see machine-show-network)")
  } else {
    $vrrp_iface = $oci::controller::machine_iface
  }

  file { '/etc/sysctl.d/60-oci-vip.conf':
    ensure  => file,
    content => "net.ipv4.ip_nonlocal_bind = 1\n",
  }
  exec { 'oci-vip-sysctl':
    command     => 'sysctl -q -p /etc/sysctl.d/60-oci-vip.conf',
    path        => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
    refreshonly => true,
    subscribe   => File['/etc/sysctl.d/60-oci-vip.conf'],
    before      => Service['haproxy'],
  }

  package { 'keepalived': ensure => installed }
  file { '/etc/keepalived/keepalived.conf':
    ensure    => file,
    mode      => '0600',
    show_diff => false,
    content   => join([
      'vrrp_instance oci_api {',
      "  state ${if $first { 'MASTER' } else { 'BACKUP' }}",
      "  interface ${vrrp_iface}",
      '  virtual_router_id 51',
      "  priority ${if $first { 150 } else { 100 }}",
      '  authentication {',
      '    auth_type PASS',
      "    auth_pass ${oci::controller::pass_keepalived_vrrp}",
      '  }',
      "  virtual_ipaddress { ${oci::cluster::vip_ipaddr} }",
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
}
