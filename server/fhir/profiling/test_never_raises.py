"""``validate`` answers any JSON-ish input with issues: it never raises and never reports itself broken."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import profiles
from server.fhir.profiling import validate

KEYS = ["resourceType", "id", "meta", "profile", "identifier", "system", "value", "type", "coding", "code", "extension", "url",
        "valueString", "valueCoding", "name", "family", "gender", "category", "status", "contained", "contact", "component",
        "valueQuantity", "dataAbsentReason", "subject", "reference", "content", "attachment", "text", "div", "_gender", "x"]
scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), c, max_size=5), max_leaves=30)
types = st.sampled_from(["Patient", "Observation", "Encounter", "DocumentReference", "Condition", "Appointment", "Bundle", "Nope", ""])
claimed = st.lists(st.sampled_from([*profiles.PROFILE.values(), "urn:unknown", ""]) | json_values, max_size=3)
resources = st.builds(lambda t, rest, prof: {**rest, "resourceType": t, "meta": {"profile": prof}}, types, st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6), claimed)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, resources), st.lists(st.sampled_from([*profiles.PROFILE.values(), "urn:x"]), max_size=2), st.booleans())
def test_validate_never_raises(data: object, extra: list[str], strict: bool) -> None:
    issues = validate(data, extra, security_checks=strict, no_html_in_markdown=strict, examples=not strict)
    assert isinstance(issues, list)
    assert not [i for i in issues if i.code == "exception"], issues


def _core_resources() -> list[dict]:
    from mappings.transfer54.fhir import to_fhir
    from mappings.transfer54.generate import records

    return [e["resource"] for e in to_fhir(records(3, 1)[0])["entry"] if e["resource"]["resourceType"] in ("Patient", "Encounter", "Observation", "DocumentReference")]


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> dict:
    """A conformant core resource with one part (anywhere) replaced by arbitrary JSON."""
    import copy

    base = copy.deepcopy(draw(st.sampled_from(_core_resources())))
    path = draw(st.sampled_from(_paths(base)[1:]))
    parent = base
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = draw(json_values)
    return base


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.booleans())
def test_validate_never_raises_on_damaged_core_resources(data: dict, strict: bool) -> None:
    issues = validate(data, security_checks=strict, no_html_in_markdown=strict, examples=not strict)
    assert not [i for i in issues if i.code == "exception"], issues
