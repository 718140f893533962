"""Splitting a parameter value on commas (FHIR search: ``\\,`` is a literal comma)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.fhir.search.parse import split_commas


def test_escaped_commas_and_backslashes_stay_in_the_value() -> None:
    assert split_commas("a,b") == ["a", "b"]
    assert split_commas(r"a\,b,c") == ["a,b", "c"]
    assert split_commas("a\\\\,b") == ["a\\", "b"]
    assert split_commas("") == [""] and split_commas(",") == ["", ""]


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\\"), max_size=8), min_size=1, max_size=5))
def test_escaping_each_comma_keeps_the_values_whole(values: list[str]) -> None:
    joined = ",".join(v.replace(",", "\\,") for v in values)
    assert split_commas(joined) == values
