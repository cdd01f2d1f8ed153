"""The cloud lab (docs/cloud.md): a small cluster deployed by OCI's Puppet classes on Debian's OpenStack
packages, then checked through OpenStack's own APIs."""
