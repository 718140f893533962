"""The SMART scope grammar: v2 letters, v1 aliases, restrictions, and narrowing to what is allowed."""

from __future__ import annotations

import pytest

from .scopes import Grant, ScopeError, narrow, parse_scope, parse_scopes


def test_v2_and_v1_forms() -> None:
    assert parse_scope("patient/Observation.rs") == Grant("patient", "Observation", frozenset("rs"))
    assert parse_scope("system/*.cruds").letters == frozenset("cruds")
    assert parse_scope("user/*.read").letters == frozenset("rs")
    assert parse_scope("user/Patient.write").letters == frozenset("cud")
    assert parse_scope("patient/*.*").letters == frozenset("cruds")
    assert parse_scope("patient/Observation.rs?category=laboratory").restriction == (("category", "laboratory"),)
    assert parse_scope("openid") is None and parse_scope("launch/patient") is None


@pytest.mark.parametrize("bad", ["patient/Observation.sr", "patient/Observation.x", "nobody/*.rs", "patient/observation.rs", "system/*", "foo"])
def test_bad_scopes_are_refused(bad: str) -> None:
    with pytest.raises(ScopeError):
        parse_scope(bad)


def test_parse_scopes_splits_resource_and_other_scopes() -> None:
    grants, other = parse_scopes("openid fhirUser launch/patient patient/*.rs")
    assert [g.text for g in grants] == ["patient/*.rs"] and other == ["openid", "fhirUser", "launch/patient"]


def test_narrow_never_widens() -> None:
    allowed, _ = parse_scopes("system/Observation.rs system/Patient.cruds")
    wanted, _ = parse_scopes("system/*.cruds system/Observation.cruds system/Encounter.rs")
    assert sorted(g.text for g in narrow(wanted, allowed)) == ["system/Observation.rs", "system/Patient.cruds"]
    assert narrow(parse_scopes("user/*.rs")[0], allowed) == []  # another context
    assert [g.text for g in narrow(parse_scopes("system/*.rs")[0], parse_scopes("system/*.cruds")[0])] == ["system/*.rs"]
    restricted = narrow(parse_scopes("patient/Observation.rs")[0], parse_scopes("patient/Observation.rs?category=laboratory")[0])
    assert [g.text for g in restricted] == ["patient/Observation.rs?category=laboratory"]
