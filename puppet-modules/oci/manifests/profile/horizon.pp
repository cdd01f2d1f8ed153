# oci::profile::horizon (controllers): the dashboard, with the controllers' memcached as its cache.
class oci::profile::horizon {
  # Debian 12's mod_wsgi is the Python 3 one; the apache module would ask for the Python 2 package.
  class { 'apache::mod::wsgi':
    package_name => 'libapache2-mod-wsgi-py3',
    mod_path     => '/usr/lib/apache2/modules/mod_wsgi.so',
  }
  class { 'horizon':
    secret_key       => $oci::controller::pass_horizon_secret_key,
    allowed_hosts    => [$oci::cluster::vip_hostname, $oci::controller::machine_hostname],
    keystone_url     => "${oci::cluster::keystone_url}/v3",
    cache_server_ip  => $oci::cluster::all_masters_ip,
    servername       => $oci::controller::machine_hostname,
  }
}
