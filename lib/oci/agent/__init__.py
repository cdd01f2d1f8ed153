"""What runs on a node: the discovery agent (live image) and status reporting (live and installed)."""
