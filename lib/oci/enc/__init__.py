"""Puppet's External Node Classifier: pure classification (classify.py), the files it writes (refresh.py),
the secrets it hands out (secrets.py), and the tiny ``oci-enc`` reader (main.py)."""
