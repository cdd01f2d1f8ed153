# oci::profile::neutron_l2 (computes and network nodes): Neutron's layer-2 agent, the one the cluster's
# neutron_l2_agent setting names: Open vSwitch (the default), or Linux bridges for kernels without Open
# vSwitch's module. Projects' networks are VXLAN tunnels between the hosts' management addresses; the flat
# provider network ("external" unless the machine's neutron_external_network_name says) goes out through the device of the management address: Open vSwitch's br-ex, which
# oci-netconf makes, or, for Linux bridges, the device itself (the agent bridges it and moves its address).
class oci::profile::neutron_l2 (
  String           $local_ip,
  Optional[String] $local_iface,
  String           $physical_network,
) {
  include oci::cluster
  if $oci::cluster::neutron_l2_agent == 'linuxbridge' {
    if $local_iface =~ Undef {
      fail("oci::profile::neutron_l2: no device is known for the management address ${local_ip} (see machine-show-network)")
    }
    $interface_driver = 'linuxbridge'
    # The agent, like the server, refuses the experimental driver unless told (one setting of neutron.conf).
    ensure_resource('neutron_config', 'experimental/linuxbridge', { 'value' => true })
    class { 'neutron::agents::ml2::linuxbridge':
      local_ip                    => $local_ip,
      tunnel_types                => ['vxlan'],
      l2_population               => true,
      physical_interface_mappings => ["${physical_network}:${local_iface}"],
      firewall_driver             => 'iptables',
    }
  } else {
    $interface_driver = 'openvswitch'
    class { 'neutron::agents::ml2::ovs':
      local_ip        => $local_ip,
      tunnel_types    => ['vxlan'],
      l2_population   => true,
      bridge_mappings => ["${physical_network}:br-ex"],
      firewall_driver => 'openvswitch',
    }
  }
}
