# oci::tempest: parameters come from the OCI ENC (docs/enc.md).
class oci::tempest (
  Optional[String]  $region_name = undef,
  Optional[String]  $cluster_name = undef,
  Optional[String]  $cluster_domain = undef,
  Optional[String]  $vip_hostname = undef,
  Optional[String]  $vip_ipaddr = undef,
  Boolean           $self_signed_api_cert = true,
  Array             $all_masters = [],
  Array             $all_masters_ip = [],
  Optional[String]  $first_master = undef,
  Optional[String]  $first_master_ip = undef,
  Optional[String]  $machine_hostname = undef,
  Optional[String]  $machine_ip = undef,
  Optional[String]  $network_ipaddr = undef,
  Optional[Integer] $network_cidr = undef,
  Boolean           $is_first_master = false,
) {
  # Nothing beyond oci::generic yet: the class exists so that hosts of this role classify.
}
