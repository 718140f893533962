"""Server-assigned ids: valid UUIDv7s, valid FHIR ids, increasing."""

from __future__ import annotations

import uuid

from server.fhir.ids import new_id
from server.fhir.resource import ID_RE


def test_ids_are_uuid7_fhir_ids_and_strictly_increasing() -> None:
    ids = [new_id() for _ in range(20_000)]  # far more than 4096 per millisecond: the counter rolls over
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    for text in ids[:100]:
        parsed = uuid.UUID(text)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
        assert ID_RE.match(text)


def test_the_time_in_an_id_is_when_it_was_made() -> None:
    import time

    before = time.time_ns() // 1_000_000
    stamp = uuid.UUID(new_id()).int >> 80
    assert before <= stamp <= time.time_ns() // 1_000_000 + 1000
