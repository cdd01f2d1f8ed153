# oci::profile::haproxy (controllers): HAProxy on the API VIP in front of every API the controllers run,
# the controllers as members.
class oci::profile::haproxy {
  class { 'haproxy': }
  $apis = {
    'keystone' => 5000,
    'glance'   => 9292,
    'heat'     => 8004,
  } + ($oci::cluster::has_subrole_compute_services ? {
    true    => { 'nova' => 8774, 'placement' => 8778, 'neutron' => 9696 },
    default => {},
  }) + ($oci::cluster::has_subrole_cinder ? {
    true    => { 'cinder' => 8776 },
    default => {},
  })
  $apis.each |$service, $port| {
    haproxy::listen { $service:
      ipaddress => $oci::cluster::vip_ipaddr,
      ports     => String($port),
      options   => { 'balance' => 'roundrobin', 'option' => ['httpchk'] },
    }
    haproxy::balancermember { "${service}-masters":
      listening_service => $service,
      ports             => String($port),
      server_names      => $oci::cluster::all_masters,
      ipaddresses       => $oci::cluster::all_masters_ip,
      options           => 'check',
    }
  }
}
