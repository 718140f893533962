"""URI rows and the exact / :below / :above terms."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.fhir.search.test_dates import holds
from server.fhir.search.test_strings import json_nodes
from server.fhir.search.uris import above_prefixes, uri_term, uri_values
from server.storage.index import Cond, UriValue, ValueMatch

PROFILE = "http://lienthong.dev/fhir/StructureDefinition/vn-patient"


def test_uri_rows() -> None:
    assert list(uri_values("_profile", PROFILE)) == [UriValue("_profile", PROFILE)]
    assert list(uri_values("_profile", PROFILE + "|1.0")) == [UriValue("_profile", PROFILE + "|1.0"), UriValue("_profile", PROFILE)]
    assert list(uri_values("_profile", "")) == []
    assert list(uri_values("_profile", {"url": PROFILE})) == []


def test_above_prefixes() -> None:
    assert above_prefixes("http://a.vn/fhir/ValueSet/x") == (
        "http://a.vn/fhir/ValueSet/x",
        "http://a.vn/fhir/ValueSet/",
        "http://a.vn/fhir/ValueSet",
        "http://a.vn/fhir/",
        "http://a.vn/fhir",
        "http://a.vn/",
        "http://a.vn",
    )
    assert above_prefixes("urn:oid:1.2.3") == ("urn:oid:1.2.3",)
    assert above_prefixes("http://a.vn") == ("http://a.vn",)


def test_uri_terms() -> None:
    assert uri_term("url", "", PROFILE) == ValueMatch("url", "uri", (Cond("uri", "eq", PROFILE),))
    assert uri_term("url", "below", "http://lienthong.dev/fhir/") == ValueMatch("url", "uri", (Cond("uri", "prefix", "http://lienthong.dev/fhir/"),))
    assert uri_term("url", "above", "urn:oid:1.2") == ValueMatch("url", "uri", (Cond("uri", "eq", "urn:oid:1.2"),))
    assert uri_term("url", "above", "http://a.vn/fhir/x") == ValueMatch("url", "uri", (Cond("uri", "in", ("http://a.vn/fhir/x", "http://a.vn/fhir/", "http://a.vn/fhir", "http://a.vn/", "http://a.vn")),))
    assert uri_term("url", "contains", "x") is None


def test_uri_semantics() -> None:
    rows = list(uri_values("url", "http://a.vn/fhir/ValueSet"))
    assert holds(uri_term("url", "", "http://a.vn/fhir/ValueSet"), rows)
    assert not holds(uri_term("url", "", "http://a.vn/fhir/valueset"), rows)  # case-sensitive
    assert holds(uri_term("url", "below", "http://a.vn/fhir"), rows)
    assert not holds(uri_term("url", "below", "http://a.vn/fhir/ValueSet/x"), rows)
    assert holds(uri_term("url", "above", "http://a.vn/fhir/ValueSet/x/y"), rows)
    assert not holds(uri_term("url", "above", "http://a.vn/fhir/ValueSetX"), rows)


@settings(max_examples=300, deadline=None)
@given(json_nodes)
def test_uri_extractor_never_raises(node: Any) -> None:
    for row in uri_values("p", node):
        assert isinstance(row, UriValue) and isinstance(row.uri, str) and row.uri


@given(st.text(min_size=1) | st.builds(lambda a, b: f"http://{a}/{b}", st.text(), st.text()))
def test_above_prefixes_are_prefixes(value: str) -> None:
    prefixes = above_prefixes(value)
    assert prefixes[0] == value
    assert all(value.startswith(p) and p for p in prefixes)
