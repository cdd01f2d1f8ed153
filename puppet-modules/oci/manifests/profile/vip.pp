# oci::profile::vip (controllers): the API VIP moves between controllers with VRRP (keepalived); the first
# master starts as its owner.
class oci::profile::vip {
  $first = $oci::controller::is_first_master

  package { 'keepalived': ensure => installed }
  file { '/etc/keepalived/keepalived.conf':
    ensure    => file,
    mode      => '0600',
    show_diff => false,
    content   => join([
      'vrrp_instance oci_api {',
      "  state ${if $first { 'MASTER' } else { 'BACKUP' }}",
      "  interface ${if $oci::cluster::bgp_to_the_host { 'lo' } else { 'eth0' }}",
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
