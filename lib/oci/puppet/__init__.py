"""Puppet on the master: the agents' run reports the Puppet server forwards (docs/puppet-runs.md)."""

from __future__ import annotations

# The secret the Puppet server's http report processor sends as basic auth (user REPORT_USER): a blob of the
# state directory, 0600, made by oci-puppet-setup and read by oci-api (docs/puppet-runs.md, "The reports").
REPORT_TOKEN = ("secrets", "puppet-report-token")
REPORT_USER = "puppetserver"
