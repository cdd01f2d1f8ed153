# oci::schema_sync: on the first master, a project's schema sync runs again at each Puppet run until one run has
# brought the project's services up after it. Puppet-openstack syncs only on a refresh (its package installed,
# its configuration changed): when a first run fails before or during a sync, the next run changes nothing and
# never syncs, and the services stay on an empty database for good. A marker on the node, written once the
# project's services have started, ends the repeats; a sync is idempotent, so a repeat costs time, not data.
# $title: the project (its anchors are "<project>::dbsync::begin" and "<project>::service::end");
# $sync_begins: the anchors its syncs subscribe to (Nova has two: its API database's and its main one's).
define oci::schema_sync (
  Array[String] $sync_begins = ["${title}::dbsync::begin"],
) {
  include oci::schema_sync::markers
  $marker = "${oci::schema_sync::markers::folder}/${title}"
  exec { "oci-schema-not-synced-${title}":
    command => '/bin/true',
    unless  => "/usr/bin/test -e ${marker}",
    notify  => Anchor[$sync_begins],
  }
  exec { "oci-schema-synced-${title}":
    command => "/usr/bin/touch ${marker}",
    creates => $marker,
    require => [File[$oci::schema_sync::markers::folder], Anchor["${title}::service::end"]],
  }
}
