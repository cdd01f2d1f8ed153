"""openstack-cluster-installer: the library behind every OCI command."""

__version__ = "0.1.0"
