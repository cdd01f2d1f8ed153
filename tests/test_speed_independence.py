"""No test depends on the machine's speed: CI runs on a shared, loaded machine, where a per-example deadline
or hypothesis's "too slow" health check fails at random (it did: test_ipam's DeadlineExceeded)."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import HealthCheck, settings

TESTS = Path(__file__).resolve().parent


def settings_calls() -> list[tuple[Path, ast.Call]]:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "settings":
                found.append((path, node))
    return found


def test_the_loaded_profile_has_no_deadline_and_no_too_slow_check():
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check


def test_no_property_test_sets_a_deadline_or_brings_back_the_too_slow_check():
    calls = settings_calls()
    assert calls, "the property tests' settings were not found"
    for path, call in calls:
        where = f"{path.relative_to(TESTS)}:{call.lineno}"
        for keyword in call.keywords:
            if keyword.arg == "deadline":
                assert isinstance(keyword.value, ast.Constant) and keyword.value.value is None, f"{where}: a deadline"
            if keyword.arg == "suppress_health_check":  # replaces the profile's list, so it must keep too_slow
                listed = ast.unparse(keyword.value)
                assert "too_slow" in listed or listed == "list(HealthCheck)", f"{where}: suppress_health_check without too_slow"
