# oci::ceph::config: the Ceph packages, ceph.conf, and one keyring (admin on monitors, bootstrap-osd on OSDs).
class oci::ceph::config (
  String $fsid,
  Array  $monitors,
  Array  $monitor_addresses,
  String $keyring_path,
  String $keyring_name,
  String $key,
) {
  package { 'ceph': ensure => installed }
  file { '/etc/ceph/ceph.conf':
    ensure  => file,
    mode    => '0644',
    content => join([
      '[global]',
      "fsid = ${fsid}",
      "mon initial members = ${join($monitors, ', ')}",
      "mon host = ${join($monitor_addresses, ', ')}",
      '',
    ], "\n"),
    require => Package['ceph'],
  }
  file { $keyring_path:
    ensure    => file,
    mode      => '0600',
    show_diff => false,
    content   => "[${keyring_name}]\n  key = ${key}\n",
    require   => Package['ceph'],
  }
}
