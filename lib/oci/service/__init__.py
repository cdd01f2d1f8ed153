"""Every operation that changes or reads the state, for the CLI and the HTTP API alike.

The edges (cli/, api.py) call these modules and nothing below them.
"""
