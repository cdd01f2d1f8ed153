# oci::profile::swift (controllers, when the cluster has Swift proxies): Swift in Keystone's catalog, its
# endpoints on the API VIP over HTTPS (HAProxy balances the proxies: oci::profile::haproxy). The first master
# makes the service, its user and its endpoints, as it does for the other services.
class oci::profile::swift {
  if $oci::controller::is_first_master {
    class { 'swift::keystone::auth':
      password              => $oci::controller::pass_swift_authtoken,
      public_url            => "${oci::cluster::swift_url}/v1/AUTH_%(tenant_id)s",
      internal_url          => "${oci::cluster::swift_url}/v1/AUTH_%(tenant_id)s",
      admin_url             => $oci::cluster::swift_url,
      region                => $oci::cluster::region_name,
      # The proxies do not run the S3 middleware: no S3 endpoint in the catalog.
      configure_s3_endpoint => false,
    }
  }
}
