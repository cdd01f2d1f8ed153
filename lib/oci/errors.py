"""The one exception hierarchy of OCI.

The library only raises these; the edges (CLI ``main()``, the HTTP error hook) turn them into a one-line
message, an exit code or an HTTP status. ``hint`` tells the operator what to do next.
"""

from __future__ import annotations


class OciError(Exception):
    """Base of every error the library raises on purpose."""

    status_code = 400
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InvalidInput(OciError):
    """A value given by an operator, a node or a config file is not acceptable."""


class InvalidName(InvalidInput):
    """A name that would become part of a path or a hostname is refused."""


class NotFound(OciError):
    status_code = 404


class Conflict(OciError):
    """The request contradicts the current state (in use, already exists, full...)."""

    status_code = 409


class InvalidState(OciError):
    """A state file cannot be read back into its model (hand-edited, truncated, wrong version)."""

    status_code = 500


class PayloadTooLarge(InvalidInput):
    status_code = 413


class ConfigError(OciError):
    """The configuration file is unreadable or holds a bad value."""

    status_code = 503  # over HTTP: the service cannot work until its operator fixes it


class Unauthorized(OciError):
    """No token, or a token that is not (or no longer) valid."""

    status_code = 401


class Forbidden(OciError):
    """The caller is known but may not do this (a node outside the trusted networks, another machine's record)."""

    status_code = 403


class TooManyRequests(OciError):
    """A source asked for more than its share (new machines per minute): nothing was done."""

    status_code = 429


class LockTimeout(OciError):
    status_code = 503
