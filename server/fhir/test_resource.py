"""Rewriting a resource's references in place of a whole-tree copy (transactions)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from server.fhir.resource import holder_at, reference_paths, with_references

REFS = st.sampled_from(["urn:uuid:1", "urn:uuid:2", "Patient/a", "Patient?identifier=x", "#c"])
leaf = st.one_of(st.integers(), st.text(max_size=3), REFS)
trees = st.recursive(
    st.dictionaries(st.sampled_from(["reference", "a", "b", "c"]), leaf, max_size=3),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["reference", "subject", "entry", "x"]), st.one_of(inner, REFS), max_size=3),
    ),
    max_leaves=25,
)
MAPPING = {"urn:uuid:1": "Patient/new1", "urn:uuid:2": "Encounter/new2", "Patient?identifier=x": "Patient/found"}


def _whole_copy(node: Any, seen: list[str]) -> Any:
    """The previous way: copy everything, rewriting each holder in document order."""
    if isinstance(node, dict):
        out = {k: _whole_copy(v, seen) for k, v in node.items()}
        ref = out.get("reference")
        if isinstance(ref, str):
            seen.append(ref)
            out["reference"] = MAPPING.get(ref, ref)
        return out
    if isinstance(node, list):
        return [_whole_copy(v, seen) for v in node]
    return node


@given(st.dictionaries(st.sampled_from(["resourceType", "subject", "item", "reference"]), trees, min_size=1, max_size=4))
def test_rewriting_only_the_holders_gives_the_whole_copy_and_leaves_the_original_alone(resource: dict) -> None:
    before = copy.deepcopy(resource)
    order: list[str] = []
    expected = _whole_copy(resource, order)
    paths = reference_paths(resource)
    holders = [holder_at(resource, p)["reference"] for p in paths]
    assert sorted(holders) == sorted(order)  # every holder, once
    changes = [(p, MAPPING[r]) for p, r in zip(paths, holders) if r in MAPPING]
    assert with_references(resource, changes) == expected
    assert resource == before


def test_holders_are_found_in_document_order() -> None:
    resource = {"subject": {"reference": "a"}, "item": [{"reference": "b"}, {"x": {"reference": "c"}}], "reference": "d"}
    assert [holder_at(resource, p)["reference"] for p in reference_paths(resource)] == ["d", "a", "b", "c"]


def test_version_memo_works_a_version_out_once() -> None:
    from ..storage.base import Version
    from .resource import VersionMemo

    calls: list[int] = []
    memo = VersionMemo(lambda v: calls.append(v.vid) or v.vid * 10, size=2)
    v1 = Version("Patient", "a", 1, 100, "PUT", b"{}")
    assert memo(v1) == 10 and memo(Version("Patient", "a", 1, 100, "PUT", b"{}")) == 10
    assert calls == [1]  # the same version, worked out once
    assert memo(Version("Patient", "a", 2, 200, "PUT", b"{}")) == 20 and calls == [1, 2]
    memo(Version("Patient", "b", 1, 300, "PUT", b"{}"))  # a third key: the memo was full, it starts again
    memo(v1)
    assert calls == [1, 2, 1, 1]
