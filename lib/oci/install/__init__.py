"""Installing Debian on a machine: the plan the master makes (``plan.py``, ``layout.py``), the bundle that
carries it to the node (``bundle.py``), and the steps ``oci-install`` runs there (docs/install.md)."""
