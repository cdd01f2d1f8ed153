# oci::swiftstore: the Swift account, container and object servers on this host's management address, on the
# ports its rings give them (lib/oci/swiftring.py: accounts 6002, containers 6001, objects 6200 and up, one
# port per disk, which the object server reads from the ring: servers_per_port). Each data disk the ENC names
# (block_devices, the disks its install left alone, as in its rings) is a device under /srv/node
# (oci::swift_device). It runs the servers of the rings it serves ($rings: the machine's swift_store_account,
# _container and _object settings, as its rings have it). Parameters come from the OCI ENC (docs/enc.md).
class oci::swiftstore (
  Optional[String]   $machine_ip,
  Array[String]      $block_devices,
  Array[Enum['account', 'container', 'object']] $rings,
  String             $pass_swift_hash_path_prefix,
  String             $pass_swift_hash_path_suffix,
) {
  # A container (the cloud lab) has no disk of its own: its devices are folders, not mounted file systems.
  $in_container = $facts['virtual'] in ['systemd_nspawn', 'docker', 'lxc', 'podman']

  class { 'swift':
    swift_hash_path_suffix => $pass_swift_hash_path_suffix,
    swift_hash_path_prefix => $pass_swift_hash_path_prefix,
  }
  file { '/srv/node':
    ensure  => directory,
    owner   => 'swift',
    group   => 'swift',
    require => Anchor['swift::install::end'],
    before  => Anchor['swift::config::end'],
  }
  oci::swift_device { $block_devices: folder => $in_container }

  class { 'swift::storage':
    storage_local_net_ip => $machine_ip,
  }
  Swift::Storage::Server {
    storage_local_net_ip => $machine_ip,
    devices              => '/srv/node',
    # Swift refuses to write to a device that is not mounted, which keeps a failed disk's writes off the root
    # file system; a folder is never mounted.
    mount_check          => !$in_container,
  }
  if 'account' in $rings {
    swift::storage::server { '6002': type => 'account' }
  }
  if 'container' in $rings {
    swift::storage::server { '6001': type => 'container' }
  }
  if 'object' in $rings {
    swift::storage::server { '6200':
      type             => 'object',
      servers_per_port => 1,
    }
  }
}
