import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .envelope import Episode, Header, read_envelope
from .layouts import STANDARDS, layout, layouts
from .strategies import broken_episodes, candidates, episodes
from .values import check_episode, trimmed
from .writer import write_envelope

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_back(eps: list[Episode]) -> list:
    return list(read_envelope(io.BytesIO(write_envelope(Header(), eps))))


@pytest.mark.parametrize("std", STANDARDS)
def test_episodes_pass_the_checks_and_survive_the_round_trip(std):
    @FAST
    @given(st.lists(episodes(std), min_size=1, max_size=3))
    def run(eps):
        for ep in eps:
            assert check_episode(ep) == []
        assert read_back(eps) == [trimmed(e) for e in eps]
    run()


@pytest.mark.parametrize("std", STANDARDS)
def test_broken_episodes_fail_naming_the_field(std):
    @FAST
    @given(broken_episodes(std))
    def run(case):
        problems = check_episode(case.episode)
        assert problems, f"{case.rule} not detected"
        assert all(p.startswith(case.where + " ") for p in problems), (case.rule, problems)
    run()


@pytest.mark.parametrize("std", STANDARDS)
def test_every_rule_gets_broken(std):
    expected = {"ma_lk_missing", "ma_lk_differs", "integer", "decimal", "format", "closed_code"}
    if std != "4210":
        expected.add("too_long")  # 4210 publishes no limits
    assert set(candidates(std)) == expected
    seen = set()

    @settings(FAST, max_examples=250, derandomize=True)
    @given(broken_episodes(std))
    def run(case):
        seen.add(case.rule)
    run()
    assert seen == expected


def _values(ep: Episode):
    for t, rs in ep.tables.items():
        for r in rs:
            for k, v in r.items():
                yield t, k, v


@pytest.mark.parametrize("std", STANDARDS)
def test_the_value_space_reaches_its_edges(std):
    def kind(t, k):
        f = layout(std, t).field(k)
        return f.kind if f else "unknown"

    features = {
        "unknown field": lambda e: any(kind(t, k) == "unknown" for t, k, _ in _values(e)),
        "blanks around": lambda e: any(v != v.strip() and v.strip() for _, _, v in _values(e)),
        "empty value": lambda e: any(v == "" for _, _, v in _values(e)),
        "markup characters": lambda e: any(c in v for _, _, v in _values(e) for c in "&<>"),
        "inner newline or tab": lambda e: any(c in v.strip() for _, _, v in _values(e) for c in "\n\t\r"),
        "non-ASCII": lambda e: any(not v.isascii() for _, _, v in _values(e)),
        "decimal with trailing zero": lambda e: any(kind(t, k) == "decimal" and "." in v and v.strip().endswith("0")
                                                    for t, k, v in _values(e)),
        "negative number": lambda e: any(kind(t, k) in ("integer", "decimal") and v.strip().startswith("-")
                                         for t, k, v in _values(e)),
        "integer with leading zero": lambda e: any(kind(t, k) == "integer" and len(v.strip()) > 1
                                                   and v.strip().lstrip("+-").startswith("0")
                                                   for t, k, v in _values(e)),
        "birth date with 00": lambda e: any(k == "NGAY_SINH" and v.strip()[6:8] == "00" for _, k, v in _values(e)),
        "empty table": lambda e: any(rs == [] for rs in e.tables.values()),
        "several rows": lambda e: any(len(rs) >= 2 for rs in e.tables.values()),
        "four tables or more": lambda e: len(e.tables) >= 4,
    }
    if std == "130":
        features["a table only 130 has"] = lambda e: any(t in e.tables for t in ("XML6", "XML9", "XML15"))
    seen = set()

    @settings(FAST, max_examples=300, derandomize=True)
    @given(episodes(std))
    def run(ep):
        assert set(ep.tables) <= set(layouts(std))
        seen.update(name for name, has in features.items() if has(ep))
    run()
    assert seen == set(features)
