"""FHIR XML: the HL7 examples and the tricky corners read back to the same JSON."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from xml.etree.ElementTree import canonicalize

import pytest

from server import jsonio
from server.fhir.fhirxml import from_xml, to_xml
from server.fhir.outcome import FhirError

EXAMPLES = Path(__file__).parent / "structure" / "testdata"
OFFICIAL_XML = Path(__file__).parent / "xml_testdata"


def _same(a: dict, b: dict) -> None:
    """Equal, the narrative compared as XML (attribute quoting, escaping and empty-element
    forms may differ between writers; the XHTML may not)."""
    def strip(r: object) -> object:
        if isinstance(r, dict):
            return {k: (canonicalize(v) if k == "div" else strip(v)) for k, v in r.items()}
        if isinstance(r, list):
            return [strip(x) for x in r]
        return r

    assert strip(a) == strip(b)


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.json") if not p.name.startswith("invalid-")), ids=lambda p: p.stem)
def test_each_hl7_example_goes_to_xml_and_back_unchanged(path: Path) -> None:
    resource = jsonio.loads(path.read_bytes())
    _same(from_xml(to_xml(resource)), resource)
    _same(from_xml(to_xml(resource, pretty=True)), resource)


@pytest.mark.parametrize("path", sorted(OFFICIAL_XML.glob("*.xml")), ids=lambda p: p.stem)
def test_the_official_xml_of_an_example_reads_as_its_official_json(path: Path) -> None:
    _same(from_xml(path.read_bytes()), jsonio.loads((EXAMPLES / f"{path.stem}.json").read_bytes()))


def test_xml_is_in_definition_order_with_attributes_and_values() -> None:
    patient = {"birthDate": "1970-01-01", "name": [{"given": ["A"], "family": "B", "id": "n1"}], "resourceType": "Patient", "id": "p",
               "active": True, "extension": [{"valueBoolean": False, "url": "urn:x"}]}
    xml = to_xml(patient).decode()
    assert xml == ('<?xml version="1.0" encoding="UTF-8"?><Patient xmlns="http://hl7.org/fhir"><id value="p"/>'
                   '<extension url="urn:x"><valueBoolean value="false"/></extension><active value="true"/>'
                   '<name id="n1"><family value="B"/><given value="A"/></name><birthDate value="1970-01-01"/></Patient>')


def test_primitive_arrays_with_extensions_and_gaps_keep_their_positions() -> None:
    ext = {"extension": [{"url": "urn:e", "valueString": "x"}]}
    patient = {"resourceType": "Patient", "name": [{"given": ["A", None, "C"], "_given": [None, ext, {"id": "g3"}]}],
               "_gender": {"extension": [{"url": "urn:g", "valueCode": "u"}]}}
    back = from_xml(to_xml(patient))
    assert back == patient


def test_contained_resources_bundles_and_numbers() -> None:
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [{
        "fullUrl": "urn:uuid:1", "request": {"method": "POST", "url": "Observation"},
        "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                     "contained": [{"resourceType": "Patient", "id": "c1", "active": False}],
                     "subject": {"reference": "#c1"}, "valueQuantity": {"value": Decimal("1.250"), "unit": "kg"},
                     "component": [{"code": {"text": "n"}, "valueInteger": -3}]}}]}
    assert from_xml(to_xml(bundle)) == bundle
    assert '<value value="1.250"/>' in to_xml(bundle).decode()  # a decimal's precision is kept


def test_text_is_escaped_and_the_narrative_is_xhtml() -> None:
    patient = {"resourceType": "Patient", "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>a &lt; b &amp; "c"</p></div>'},
               "name": [{"text": 'x <y> & "z"\nline'}]}
    xml = to_xml(patient).decode()
    assert '<div xmlns="http://www.w3.org/1999/xhtml"><p>' in xml and 'value="x &lt;y&gt; &amp; &quot;z&quot;&#10;line"' in xml
    _same(from_xml(xml), patient)


@pytest.mark.parametrize(("xml", "where"), [
    ('<Patient xmlns="http://hl7.org/fhir"><foo value="1"/></Patient>', "Patient.foo"),
    ('<Patient xmlns="http://hl7.org/fhir"><active value="yes"/></Patient>', "Patient.active"),
    ('<Patient xmlns="http://hl7.org/fhir"><gender value="male"/><gender value="female"/></Patient>', "Patient.gender"),
    ('<Patient><active value="true"/></Patient>', ""),
    ('<Dragon xmlns="http://hl7.org/fhir"/>', "Dragon"),
    ('<Patient xmlns="http://hl7.org/fhir"><name><given/></name></Patient>', "Patient.name.given"),
])
def test_what_is_not_fhir_xml_is_a_400_naming_the_element(xml: str, where: str) -> None:
    with pytest.raises(FhirError) as caught:
        from_xml(xml.encode())
    assert caught.value.status == 400
    if where:
        assert any(where in (i.expression or ("",))[0] for i in caught.value.issues), caught.value.issues


def test_entities_and_doctypes_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Patient xmlns="http://hl7.org/fhir"><id value="&b;"/></Patient>'
    with pytest.raises(FhirError) as caught:
        from_xml(bomb)
    assert caught.value.status == 400
    with pytest.raises(FhirError):
        from_xml(b"<Patient xmlns='http://hl7.org/fhir'>")  # not well-formed


def test_a_repeating_primitive_with_only_extensions_has_no_array_of_nulls() -> None:
    """HL7's JSON examples write ``"_event": [{...}]`` alone (ActivityDefinition's timing); the XML
    reader gives that form, and the writer takes it back to the same XML."""
    xml = (b'<ActivityDefinition xmlns="http://hl7.org/fhir"><status value="draft"/><timingTiming><event>'
           b'<extension url="http://hl7.org/fhir/StructureDefinition/cqf-expression"><valueExpression>'
           b'<language value="text/cql"/><expression value="Now()"/></valueExpression></extension>'
           b'</event></timingTiming></ActivityDefinition>')
    timing = from_xml(xml)["timingTiming"]
    assert "event" not in timing
    assert timing["_event"][0]["extension"][0]["valueExpression"]["expression"] == "Now()"
    assert from_xml(to_xml(from_xml(xml))) == from_xml(xml)
    mixed = from_xml(xml.replace(b"<event>", b'<event value="2020-01-01"/><event>', 1))["timingTiming"]
    assert mixed["event"] == ["2020-01-01", None] and mixed["_event"][0] is None  # a value somewhere: both arrays
