"""Repository rules that need no store."""

from __future__ import annotations


def test_the_index_extracted_ahead_is_the_index_of_the_stored_version() -> None:
    """Repository.index_of runs before the atomic unit (outside the write lock): what the server
    stamps (id, meta.versionId, meta.lastUpdated) must not change the index."""
    from server.config import Settings
    from server.fhir.repository import Repository
    from server.fhir.resource import stamp
    from server.synthetic import SampleData

    repo = Repository(None, Settings())  # type: ignore[arg-type]  # index_of needs no store
    checked = 0
    for resource in SampleData(5).resources(300):
        for body in (resource, {**resource, "meta": {"tag": [{"system": "urn:t", "code": "x"}], "versionId": "9"}}):
            assert repo.index_of(body) == repo.index_of(stamp(body, "some-id", 3, 1_700_000_000_000_000))
            checked += 1
    assert checked == 600
