"""Token rows (folded text, :of-type rows) and token query terms."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from server.fhir.outcome import FhirError
from server.fhir.search.test_strings import json_nodes
from server.fhir.search.tokens import token_term, token_values
from server.storage.index import ANY, Cond, TokenMatch, TokenValue, ValueMatch


def test_text_is_folded() -> None:
    cc = {"coding": [{"system": "http://snomed.info/sct", "code": "386661006", "display": "Fever"}], "text": "Sốt Cao"}
    assert list(token_values("code", cc)) == [TokenValue("code", "http://snomed.info/sct", "386661006", "sot cao")]
    assert list(token_values("code", {"text": "Đau đầu"})) == [TokenValue("code", None, None, "dau dau")]
    assert list(token_values("code", {"system": "urn:s", "code": "a", "display": "Tăng huyết áp"})) == [TokenValue("code", "urn:s", "a", "tang huyet ap")]


def test_identifier_of_type_rows() -> None:
    ident = {
        "system": "https://lienthong.dev/fhir/sid/cccd",
        "value": "001085012345",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NI"}, {"code": "CCCD"}], "text": "Căn cước"},
    }
    assert list(token_values("identifier", ident)) == [
        # this project's old CCCD system is indexed under VN Core's (server/fhir/identifiers.py)
        TokenValue("identifier", "http://fhir.ehealth.gov.vn/core/sid/national_id", "001085012345", "can cuoc"),
        TokenValue("identifier:of-type", "http://terminology.hl7.org/CodeSystem/v2-0203|NI", "001085012345"),
        TokenValue("identifier:of-type", "|CCCD", "001085012345"),
    ]
    assert list(token_values("identifier", {"system": "urn:x", "value": "1"})) == [TokenValue("identifier", "urn:x", "1")]


def test_token_terms() -> None:
    assert token_term("code", "", "http://loinc.org|8480-6") == TokenMatch("code", "http://loinc.org", "8480-6")
    assert token_term("code", "", "8480-6") == TokenMatch("code", ANY, "8480-6")
    assert token_term("code", "text", "Huyết Áp") == ValueMatch("code", "token", (Cond("text", "prefix", "huyet ap"),))
    assert token_term("identifier", "of-type", "http://terminology.hl7.org/CodeSystem/v2-0203|NI|001085012345") == TokenMatch(
        "identifier:of-type", "http://terminology.hl7.org/CodeSystem/v2-0203|NI", "001085012345"
    )
    assert token_term("identifier", "of-type", "|CCCD|1") == TokenMatch("identifier:of-type", "|CCCD", "1")
    for bad in ("NI|001", "a|b|c|d", "s||v", "s|c|"):
        with pytest.raises(FhirError) as exc:
            token_term("identifier", "of-type", bad)
        assert exc.value.status == 400
    for modifier in ("in", "not-in", "below", "above", "bogus"):
        assert token_term("code", modifier, "x") is None


@settings(max_examples=300, deadline=None)
@given(json_nodes)
def test_token_extractor_never_raises(node: Any) -> None:
    for row in token_values("p", node):
        assert isinstance(row, TokenValue)
        assert all(v is None or isinstance(v, str) for v in (row.system, row.code, row.text))
