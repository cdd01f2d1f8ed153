# oci::uwsgi_api: how Debian's init script starts one OpenStack API under uwsgi (/etc/default/<service>, which
# it reads last): on this host's management address only, HAProxy holding the port on the VIP, and in TLS
# with the host's certificate from OCI's PKI, so the API's traffic is encrypted from the client to the
# service. uwsgi runs as the project's user from the start: it gets its own copy of the host's key.
# $init_name: the name the init script reads its /etc/default file by (its NAME=), when it is not the service's:
# Debian's neutron-api reads /etc/default/neutron-server.
define oci::uwsgi_api (
  String  $project,
  Integer $port,
  String  $address,
  String  $init_name = $title,
) {
  $key = "/etc/${project}/${title}-tls.key"
  file { $key:
    ensure    => file,
    owner     => $project,
    group     => $project,
    mode      => '0600',
    source    => 'file:///etc/ssl/oci/host.key',
    show_diff => false,
    require   => [File['/etc/ssl/oci/host.key'], Anchor["${project}::install::end"]],
    notify    => Anchor["${project}::service::begin"],
  }
  # A module may declare the file already (puppet-neutron's ML2 plugin does, empty): then its content is set here.
  $defaults = "/etc/default/${init_name}"
  if !defined(File[$defaults]) {
    file { $defaults: ensure => file }
  }
  File <| title == $defaults |> {
    mode    => '0644',
    content => join([
      "# Written by Puppet (oci::uwsgi_api): ${title} on ${address}:${port} in TLS.",
      "DAEMON_ARGS=\"--https-socket ${address}:${port},/etc/ssl/oci/host.pem,${key} --ini /etc/${project}/${title}-uwsgi.ini\"",
      '',
    ], "\n"),
    require => File[$key],
    notify  => Anchor["${project}::service::begin"],
  }
  # As many uwsgi workers as the host has cores for (puppet-openstack's os_workers: half the cores, 2 to 12), not
  # the package's fixed 8 or 16 per API: a controller with every API ran 62 workers on 2 cores, most of its memory.
  $workers = {
    'keystone'          => 'keystone::wsgi::uwsgi',
    'placement-api'     => 'placement::wsgi::uwsgi',
    'nova-api'          => 'nova::wsgi::uwsgi_api',
    'nova-api-metadata' => 'nova::wsgi::uwsgi_api_metadata',
    'neutron-api'       => 'neutron::wsgi::uwsgi',
    'heat-api'          => 'heat::wsgi::uwsgi_api',
    'cinder-api'        => 'cinder::wsgi::uwsgi',
  }
  if $title in $workers {
    include $workers[$title]
  }
}
