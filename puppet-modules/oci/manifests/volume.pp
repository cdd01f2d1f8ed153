# oci::volume: Cinder volume with an LVM/iSCSI backend. Parameters come from the OCI ENC (docs/enc.md);
# the cluster's values from oci::cluster.
class oci::volume (
  Optional[String]   $machine_ip,
  String             $pass_cinder_authtoken,
  String             $pass_cinder_db,
  String             $pass_cinder_messaging,
) {
  include oci::cluster
  $keystone_url = $oci::cluster::keystone_url

  class { 'cinder::db':
    database_connection => "mysql+pymysql://cinder:${pass_cinder_db}@${oci::cluster::sql_vip_ip}/cinder",
  }
  class { 'cinder':
    default_transport_url => "rabbit://cinder:${pass_cinder_messaging}@${oci::cluster::rabbit_hosts}/",
    *                     => $oci::cluster::messaging_tls,
  }
  class { 'cinder::keystone::authtoken':
    password             => $pass_cinder_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'cinder::volume': }
  cinder::backend::iscsi { 'lvm':
    target_ip_address => $machine_ip,
    volume_group      => "${oci::cluster::cluster_name}vg0",
  }
  class { 'cinder::backends':
    enabled_backends => ['lvm'],
  }
}
