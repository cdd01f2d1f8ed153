# oci::profile::haproxy (controllers): HAProxy on the API VIP in front of every API the controllers run, the
# controllers as members. The endpoints are HTTPS with the cluster's API certificate from OCI's PKI; the
# members serve TLS too, with their host certificates, on the management network (oci::uwsgi_api), all but
# Glance (oci::profile::glance). Swift's port, when the cluster has proxies, goes to them. MariaDB's port goes to
# one member at a time, the first controller first, so that Galera sees the writes on one node.
class oci::profile::haproxy {
  $vip = $oci::cluster::vip_ipaddr
  $pem = '/etc/haproxy/oci-api.pem'

  class { 'haproxy':
    global_options   => {
      'log'                      => '/dev/log local0',
      'maxconn'                  => '8000',
      'user'                     => 'haproxy',
      'group'                    => 'haproxy',
      'daemon'                   => '',
      'ssl-default-bind-options' => 'ssl-min-ver TLSv1.2',
    },
    defaults_options => {
      'log'     => 'global',
      'option'  => ['redispatch'],
      'retries' => '3',
      'timeout' => ['http-request 10s', 'queue 1m', 'connect 10s', 'client 10m', 'server 10m', 'check 10s'],
      'maxconn' => '8000',
    },
  }
  file { $pem:
    ensure    => file,
    mode      => '0600',
    content   => "${oci::controller::api_ssl_certificate}${oci::controller::api_ssl_key}",
    show_diff => false,
    require   => Package['haproxy'],
    notify    => Service['haproxy'],
  }

  $apis = {
    'keystone' => 5000,
    'glance'   => 9292,
    'heat'     => 8004,
  } + ($oci::cluster::has_subrole_compute_services ? {
    true    => { 'nova' => 8774, 'nova-metadata' => 8775, 'placement' => 8778, 'neutron' => 9696 },
    default => {},
  }) + ($oci::cluster::has_subrole_cinder ? {
    true    => { 'cinder' => 8776 },
    default => {},
  })
  $apis.each |$service, $port| {
    haproxy::listen { $service:
      bind    => { "${vip}:${port}" => ['ssl', 'crt', $pem] },
      mode    => 'http',
      options => {
        'balance'      => 'roundrobin',
        # GET: HAProxy's default check asks OPTIONS, which Placement answers 405 (every API answers GET /).
        'option'       => ['httpchk GET /', 'forwardfor'],
        'http-request' => 'set-header X-Forwarded-Proto https',
      },
    }
    haproxy::balancermember { "${service}-masters":
      listening_service => $service,
      ports             => String($port),
      server_names      => $oci::cluster::all_masters,
      ipaddresses       => $oci::cluster::all_masters_ip,
      # The members serve TLS too, with their host certificates, checked against OCI's CA; Glance apart.
      options           => $service ? {
        'glance' => 'check inter 5s',
        default  => 'check inter 5s ssl verify required ca-file /etc/ssl/oci/ca-chain.pem',
      },
    }
  }

  # Swift's proxies: in clear on the management network (Debian runs swift-proxy under eventlet, without TLS, as
  # Glance), HTTPS on the VIP.
  if $oci::cluster::has_swift {
    haproxy::listen { 'swift':
      bind    => { "${vip}:${oci::cluster::swift_port}" => ['ssl', 'crt', $pem] },
      mode    => 'http',
      options => {
        'balance'      => 'roundrobin',
        'option'       => ['httpchk GET /healthcheck', 'forwardfor'],
        'http-request' => 'set-header X-Forwarded-Proto https',
      },
    }
    haproxy::balancermember { 'swift-proxies':
      listening_service => 'swift',
      ports             => String($oci::cluster::swift_port),
      server_names      => $oci::cluster::all_swiftproxy,
      ipaddresses       => $oci::cluster::all_swiftproxy_ip,
      options           => 'check inter 5s',
    }
  }

  if $oci::cluster::has_subrole_db {
    haproxy::listen { 'mysql':
      bind    => { "${oci::cluster::sql_vip_ip}:3306" => [] },
      mode    => 'tcp',
      options => { 'option' => ['tcpka'], 'timeout' => ['client 90m', 'server 90m'] },
    }
    haproxy::balancermember { 'mysql-first':
      listening_service => 'mysql',
      ports             => '3306',
      server_names      => $oci::cluster::all_masters[0],
      ipaddresses       => $oci::cluster::all_masters_ip[0],
      options           => 'check inter 5s',
    }
    if size($oci::cluster::all_masters) > 1 {
      haproxy::balancermember { 'mysql-others':
        listening_service => 'mysql',
        ports             => '3306',
        server_names      => $oci::cluster::all_masters[1, -1],
        ipaddresses       => $oci::cluster::all_masters_ip[1, -1],
        options           => 'check inter 5s backup',
      }
    }
  }
}
