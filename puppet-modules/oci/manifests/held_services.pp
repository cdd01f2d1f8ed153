# oci::held_services: the OpenStack services a node's packages must not start at install. A package starts its
# service as it is installed: an API on every address, where HAProxy needs its port on the VIP; a daemon with
# the package's default configuration, before its database has a schema or its message queue is known, where it
# fails and restarts in a loop that takes the CPU the install needs. Puppet starts each once it is configured.
# A postinst asks policy-rc.d by the init script's name (invoke-rc.d) or by the unit's (deb-systemd-invoke):
# each service is held by both.
class oci::held_services (
  Array[String] $services,
) {
  class { 'openstacklib::policyrcd':
    services => $services + $services.map |$service| { "${service}.service" },
  }
}
