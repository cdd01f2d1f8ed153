# oci::schema_sync::markers: where oci::schema_sync keeps its markers, one file per project whose schema was
# synced and whose services then started (/var/lib/oci is the node's OCI state: the first boot's marker is there).
class oci::schema_sync::markers {
  $folder = '/var/lib/oci/schema-synced'
  file { ['/var/lib/oci', $folder]:
    ensure => directory,
    mode   => '0755',
  }
}
