"""OCI's PKI: the X.509 certificate authority (authority.py over x509.py) and the SSH CAs (ssh.py)."""
