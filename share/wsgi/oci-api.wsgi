"""The OCI API for Apache's mod_wsgi (the site file: /etc/apache2/sites-available/openstack-cluster-installer.conf).

The same application as ``oci-api`` (``oci.api.make_app``) on the same configuration and state directory.
Apache mounts it at /api, /boot and /oci; the application's routes start with these, so the mount point
goes back into PATH_INFO.
"""

import sys

PRIVATE_LIB = "/usr/share/openstack-cluster-installer/lib"
if PRIVATE_LIB not in sys.path:
    sys.path.insert(0, PRIVATE_LIB)

from oci import config  # noqa: E402
from oci.api import make_app  # noqa: E402
from oci.store import Store  # noqa: E402

_cfg = config.load()
_app = make_app(Store.open(_cfg), trusted=_cfg.trusted_networks)


def application(environ, start_response):
    environ["PATH_INFO"] = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    environ["SCRIPT_NAME"] = ""
    return _app(environ, start_response)
