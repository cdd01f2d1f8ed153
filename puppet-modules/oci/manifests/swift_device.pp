# oci::swift_device: one data disk of a Swift store (the title: its kernel name, as the rings have it) as the
# device /srv/node/<disk>. A disk with no file system is formatted XFS, labelled with its name, and mounted by
# that label (the kernel may name the disks otherwise at the next boot; the label follows the data). A disk that
# holds a file system already is never formatted: one that is not XFS fails its mount, which says so.
# $folder: the store is a container with no disk of its own (the cloud lab): the device is a folder.
define oci::swift_device (
  Boolean $folder = false,
) {
  $disk = $title
  $mountpoint = "/srv/node/${disk}"
  file { $mountpoint:
    ensure  => directory,
    require => File['/srv/node'],
  }
  if $folder {
    File[$mountpoint] {
      owner  => 'swift',
      group  => 'swift',
      before => Anchor['swift::config::end'],
    }
  } else {
    include swift::xfs  # xfsprogs
    exec { "oci-swift-mkfs-${disk}":
      command => "mkfs.xfs -L ${disk} /dev/${disk}",
      unless  => "blkid -p /dev/${disk}",
      path    => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
      require => Package['xfsprogs'],
    }
    file_line { "oci-swift-fstab-${disk}":
      path  => '/etc/fstab',
      line  => "LABEL=${disk} ${mountpoint} xfs noatime,nofail,logbufs=8 0 2",
      match => "\\s${mountpoint}\\s",
    }
    exec { "oci-swift-mount-${disk}":
      command => "mount ${mountpoint}",
      unless  => "mountpoint -q ${mountpoint}",
      path    => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
      require => [Exec["oci-swift-mkfs-${disk}"], File_line["oci-swift-fstab-${disk}"], File[$mountpoint]],
    }
    # The mounted file system's root is the device: Swift's servers write there as swift.
    exec { "oci-swift-own-${disk}":
      command     => "chown swift:swift ${mountpoint}",
      path        => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
      refreshonly => true,
      subscribe   => Exec["oci-swift-mount-${disk}"],
      require     => Anchor['swift::install::end'],
      before      => Anchor['swift::config::end'],
    }
  }
}
