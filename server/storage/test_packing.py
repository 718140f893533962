"""Packing is lossless for every index value kind."""

from __future__ import annotations

import pickle

from server.storage.base import Version, Write
from server.storage.index import DateValue, NumberValue, QuantityValue, ReferenceValue, StringValue, TokenValue, UriValue
from server.storage.packing import pack, unpack


def test_round_trip() -> None:
    rows = (
        TokenValue("identifier", "urn:x", "1", "cccd"), TokenValue("gender", None, "male"),
        StringValue("name", "nguyen", "Nguyễn"), DateValue("birthdate", 1, 2), ReferenceValue("subject", "Patient/1"),
        NumberValue("n", 1.5), QuantityValue("value-quantity", 62.5, "http://unitsofmeasure.org", "kg"), UriValue("url", "http://x"),
    )
    writes = [Write(Version("Patient", "p1", 1, 10, "POST", b"{}"), rows, None), Write(Version("Patient", "p2", 3, 11, "PUT", None), (), 2)]
    assert unpack(pickle.loads(pickle.dumps(pack(writes)))) == writes
