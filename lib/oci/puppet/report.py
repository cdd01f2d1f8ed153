"""A Puppet run report, as the Puppet server's http report processor posts it (``report.to_yaml``, format 12
in Puppet 7), read into the machine's ``PuppetRun`` (docs/puppet-runs.md, "The reports").

The body is YAML with Ruby object tags (``!ruby/object:Puppet::Transaction::Report``): it is read by a safe
loader that takes each such tag for the plain mapping, list or text it tags, so nothing in a report can make
an object. What is read is bounded: the text's size, the failed resources kept, every kept line's length.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import yaml

from oci import names
from oci.errors import InvalidInput
from oci.model import PuppetResult, PuppetRun
from oci.model.machine import MAX_ERROR_LENGTH, MAX_FAILED_RESOURCES, MAX_RESOURCE_LENGTH

# The Puppet server posts with basic auth: this user, and the secret oci-puppet-setup keeps in this blob of the
# state directory (0600; URL-safe, as Puppet sends the reporturl's userinfo as it is written).
REPORT_USER = "puppetserver"
REPORT_TOKEN = ("puppet", "report-token")
MAX_REPORT_BYTES = 16 * 1024 * 1024  # a report of a few thousand resources is a few MiB
STATUSES = ("changed", "unchanged", "failed")
ERROR_LEVELS = ("err", "alert", "emerg", "crit")  # Puppet's levels from err up
MAX_COUNT = 10**9  # resources in one catalog; beyond that a count is not one
MAX_SECONDS = 10**7
_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's when built with it: 10 times faster


class _ReportLoader(_Base):  # type: ignore[misc]
    """The safe loader, with Ruby's tags read as what they tag."""


def _untagged(loader: Any, suffix: str, node: yaml.Node) -> Any:
    del suffix  # the Ruby class (Puppet::Transaction::Report, Puppet::Util::Log...) says nothing more
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_ReportLoader.add_multi_constructor("!ruby/", _untagged)


def _load(text: str) -> dict[str, Any]:
    if len(text) > MAX_REPORT_BYTES:
        raise InvalidInput(f"Puppet report: larger than {MAX_REPORT_BYTES} bytes")
    try:
        document = yaml.load(text, Loader=_ReportLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise InvalidInput(f"Puppet report: not valid YAML{at}") from None
    except (RecursionError, ValueError, TypeError, OverflowError):  # nesting, odd scalars, unhashable keys
        raise InvalidInput("Puppet report: not a YAML document OCI can read") from None
    if not isinstance(document, dict) or not isinstance(document.get("host"), str) or "status" not in document:
        raise InvalidInput("Puppet report: not a Puppet run report (no host and status)", hint="the Puppet server posts report.to_yaml")
    return document


def _line(text: object, limit: int) -> str | None:
    """``text`` as one printable line of at most ``limit`` characters (its first line), None if empty."""
    if not isinstance(text, str):
        return None
    first = text.strip().split("\n", 1)[0] if text.strip() else ""
    cleaned = " ".join(_NOT_TEXT.sub(" ", first).split())
    return cleaned[:limit] or None


def _when(value: object) -> datetime:
    if isinstance(value, datetime):  # an unquoted timestamp
        when = value
    else:
        try:
            if not isinstance(value, str):
                raise ValueError
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"Puppet report: time {_show(value)} is not a timestamp") from None
    if when.tzinfo is None:
        raise InvalidInput(f"Puppet report: time {_show(value)} has no time zone")
    try:
        return when.astimezone(UTC).replace(microsecond=0)
    except OverflowError:
        raise InvalidInput(f"Puppet report: time {_show(value)} is out of range") from None


def _metric(metrics: object, name: str, key: str) -> object:
    """One value of a metric (``values`` is a list of [key, label, value])."""
    if not isinstance(metrics, dict) or not isinstance(metrics.get(name), dict):
        return None
    entries = metrics[name].get("values")
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, list) and len(entry) == 3 and entry[0] == key:
            return entry[2]
    return None


def _count(value: object, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise InvalidInput(f"Puppet report: {what} {_show(value)} is not a count")
    return value


def _seconds(value: object) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= MAX_SECONDS:
        raise InvalidInput(f"Puppet report: total time {_show(value)} is not a duration")
    return round(float(value), 2)


def _failed_resources(statuses: object) -> list[str]:
    if statuses is None:
        return []
    if not isinstance(statuses, dict):
        raise InvalidInput("Puppet report: resource_statuses is not a mapping")
    found = []
    for name, status in statuses.items():
        if isinstance(status, dict) and status.get("failed") is True:
            line = _line(name, MAX_RESOURCE_LENGTH)
            if line is not None and line not in found:
                found.append(line)
    return found


def _first_error(logs: object) -> str | None:
    for log in logs if isinstance(logs, list) else ():
        if isinstance(log, dict) and log.get("level") in ERROR_LEVELS:
            line = _line(log.get("message"), MAX_ERROR_LENGTH)
            if line is not None:
                return line
    return None


def _show(value: object) -> str:
    text = ascii(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse(text: str) -> tuple[str, PuppetRun]:
    """The certname (the report's ``host``) and the run it reports. A failure: the status ``failed``, a
    failed resource, a transaction that did not complete, or a run on the cached catalog after the server's
    failed (``cached_catalog_status: on_failure``)."""
    report = _load(text)
    certname = report["host"]
    try:
        names.hostname(certname)
    except InvalidInput:
        raise InvalidInput(f"Puppet report: host {_show(certname)} is not a host name") from None
    status = report["status"]
    if status not in STATUSES:
        raise InvalidInput(f"Puppet report: status {_show(status)} is not one of {', '.join(STATUSES)}")
    metrics = report.get("metrics")
    changed = _count(_metric(metrics, "resources", "changed"), "changed resources")
    failed_names = _failed_resources(report.get("resource_statuses"))
    failed = max(_count(_metric(metrics, "resources", "failed"), "failed resources"), len(failed_names))
    incomplete = report.get("transaction_completed") is False
    cached = report.get("cached_catalog_status") == "on_failure"
    result = PuppetResult.FAILURE if status == "failed" or failed or incomplete or cached else PuppetResult.SUCCESS
    error = _first_error(report.get("logs")) if result is PuppetResult.FAILURE else None
    if error is None and cached:
        error = "the catalog could not be retrieved: the agent applied its cached catalog"
    run = PuppetRun(
        at=_when(report.get("time")),
        seconds=_seconds(_metric(metrics, "time", "total")),
        result=result,
        changed=changed,
        failed=failed,
        failed_resources=tuple(failed_names[:MAX_FAILED_RESOURCES]),
        error=error,
    )
    return certname, run
