# oci::compute: Nova compute with libvirt and Neutron's layer-2 agent (and the DHCP agent when the cluster has
# no network nodes). Parameters come from the OCI ENC (docs/enc.md); the cluster's values from oci::cluster.
class oci::compute (
  Optional[String]   $machine_ip,
  Optional[String]   $machine_iface,
  Boolean            $has_subrole_dhcp_agent,
  Numeric            $cpu_allocation_ratio,
  Numeric            $ram_allocation_ratio,
  Numeric            $disk_allocation_ratio,
  Integer            $nova_reserved_host_memory_mb,
  Integer            $nova_reserved_host_disk_mb,
  Enum['kvm', 'qemu'] $virt_type,
  String             $external_network_name,
  Enum['host-model', 'host-passthrough', 'custom'] $cpu_mode,
  Array[String]      $cpu_models,
  Array[String]      $cpu_model_extra_flags,
  Boolean            $nested_virt,
  String             $pass_nova_authtoken,
  String             $pass_nova_messaging,
  String             $pass_neutron_authtoken,
  String             $pass_neutron_messaging,
  String             $pass_placement_authtoken,
) {
  include oci::cluster
  $keystone_url = $oci::cluster::keystone_url
  $transport = $oci::cluster::rabbit_hosts
  # nova-compute and the agents would start at install on the packages' defaults (a message queue on localhost).
  class { 'oci::held_services':
    services => ['nova-compute', 'neutron-linuxbridge-agent', 'neutron-openvswitch-agent', 'neutron-dhcp-agent',
                 'neutron-metadata-agent'],
  }

  class { 'nova':
    default_transport_url => "rabbit://nova:${pass_nova_messaging}@${transport}/",
    cpu_allocation_ratio  => $cpu_allocation_ratio,
    ram_allocation_ratio  => $ram_allocation_ratio,
    disk_allocation_ratio => $disk_allocation_ratio,
    *                     => $oci::cluster::messaging_tls,
  }
  class { 'nova::keystone::authtoken':
    password             => $pass_nova_authtoken,
    www_authenticate_uri => $keystone_url,
    auth_url             => $keystone_url,
  }
  class { 'nova::placement':
    password    => $pass_placement_authtoken,
    auth_url    => $keystone_url,
    region_name => $oci::cluster::region_name,
  }
  class { 'nova::network::neutron':
    auth_url    => $keystone_url,
    password    => $pass_neutron_authtoken,
    region_name => $oci::cluster::region_name,
  }
  class { 'nova::compute':
    reserved_host_memory => $nova_reserved_host_memory_mb,
    reserved_host_disk   => $nova_reserved_host_disk_mb,
    vncserver_proxyclient_address => $machine_ip,
  }
  # The CPU the guests see, with KVM only: with qemu (no KVM), libvirt emulates a CPU of its own and the
  # module's default (none) is the one that works.
  $cpu = $virt_type ? {
    'kvm'   => { 'cpu_mode' => $cpu_mode, 'cpu_models' => $cpu_models,
                 'cpu_model_extra_flags' => empty($cpu_model_extra_flags) ? { true => undef, default => $cpu_model_extra_flags } },
    default => {},
  }
  class { 'nova::compute::libvirt':
    virt_type => $virt_type,
    *         => $cpu,
  }
  # Guests that run their own hypervisor: the KVM modules' nested option, read when the module loads (at boot).
  file { '/etc/modprobe.d/oci-nested-virt.conf':
    ensure  => $nested_virt ? { true => file, default => absent },
    content => "# Written by Puppet (oci::compute, the machine's nested_virt setting)\noptions kvm_intel nested=1\noptions kvm_amd nested=1\n",
  }
  class { 'neutron':
    default_transport_url => "rabbit://neutron:${pass_neutron_messaging}@${transport}/",
    core_plugin           => 'ml2',
    *                     => $oci::cluster::messaging_tls,
  }
  class { 'oci::profile::neutron_l2':
    local_ip         => $machine_ip,
    local_iface      => $machine_iface,
    physical_network => $external_network_name,
  }
  if $has_subrole_dhcp_agent {
    class { 'neutron::agents::dhcp':
      interface_driver => $oci::profile::neutron_l2::interface_driver,
    }
  }
}
