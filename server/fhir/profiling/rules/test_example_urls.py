"""Example URLs: off by default; with examples not allowed, every uri, url and canonical that names one."""

from __future__ import annotations

from server.fhir.profiling import validate
from server.fhir.profiling.rules.example_urls import check, is_example


def test_example_domains_by_host() -> None:
    assert is_example("http://example.org/fhir/x") and is_example("https://repository.EXAMPLE.com/a") and is_example("http://acme.com")
    assert not is_example("http://notexample.org/x") and not is_example("urn:uuid:example.org") and not is_example("http://[bad")


def test_uri_url_and_canonical_values_are_checked() -> None:
    doc = {"resourceType": "DocumentReference", "status": "current",
           "content": [{"attachment": {"url": "http://repository.example.org/fhir/DocumentReference/1", "title": "http://example.org"}}],
           "meta": {"profile": ["http://example.com/StructureDefinition/p"], "source": "http://hospital.vn/x"}}
    found = check(doc)
    assert [i.expression[0] for i in found] == ["DocumentReference.content[0].attachment.url", "DocumentReference.meta.profile[0]"]
    assert found[0].diagnostics.startswith("DocumentReference.content[0].attachment.url: 'http://repository.example.org/fhir/DocumentReference/1' is an example URL")


def test_off_by_default() -> None:
    doc = {"resourceType": "DocumentReference", "status": "current", "content": [{"attachment": {"url": "http://example.org/x"}}]}
    assert not [i for i in validate(doc) if "rule: examples" in i.diagnostics]
    assert [i.expression[0] for i in validate(doc, examples=False) if "rule: examples" in i.diagnostics] == ["DocumentReference.content[0].attachment.url"]
