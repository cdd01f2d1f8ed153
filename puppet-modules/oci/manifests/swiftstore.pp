# oci::swiftstore: the Swift account, container and object servers. Parameters come from the OCI ENC
# (docs/enc.md); the cluster's values from oci::cluster.
class oci::swiftstore (
  Optional[String]   $machine_ip,
  String             $pass_swift_hash_path_prefix,
  String             $pass_swift_hash_path_suffix,
) {
  class { 'swift':
    swift_hash_path_suffix => $pass_swift_hash_path_suffix,
    swift_hash_path_prefix => $pass_swift_hash_path_prefix,
  }
  class { 'swift::storage::all':
    storage_local_net_ip => $machine_ip,
  }
}
