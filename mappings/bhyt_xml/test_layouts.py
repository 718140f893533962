import pytest

from .layouts import UnknownStandard, layout, layouts, recognise


def test_known_facts():
    x1 = layout("130", "XML1")
    assert x1.root == "TONG_HOP" and x1.single and len(x1.fields) == 66
    assert "MA_THE_BHYT" in x1.field_names and x1.field_names[0] == "MA_LK"
    assert "MA_THE" in layout("4210", "XML1").field_names
    assert list(layouts("4210")) == ["XML1", "XML2", "XML3", "XML4", "XML5"]
    assert "XML12" not in layouts("130") and len(layouts("130")) == 14
    x2 = layout("130", "XML2")
    assert (x2.list, x2.record) == ("DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC")
    assert x2.field("MA_LK").max_length == 100


def test_recognise():
    assert recognise("XML1", ["MA_LK", "MA_THE_BHYT"]) == "130"
    assert recognise("XML1", ["MA_LK", "MA_THE"]) == "4210"
    assert recognise("XML7", ["MA_LK"]) == "130"
    with pytest.raises(UnknownStandard):
        recognise("XML1", ["MA_LK", "STT"])


def test_field_order_is_the_published_order():
    """Every 130 table lists its fields in the order the receiving portal's 4750 sheet gives
    (published.json; e.g. T_BNTT, T_BNCCT, T_BHTT in XML2 and XML3), so the writer follows it."""
    import json
    from pathlib import Path

    published = json.loads(Path(__file__).with_name("published.json").read_text(encoding="utf-8"))["tables"]["130"]
    checked = 0
    for table, fields in published.items():
        ranks = {f["name"]: f["order"]["portal_validation_4750"] for f in fields if f.get("order", {}).get("portal_validation_4750")}
        ours = [name for name in layout("130", table).field_names if name in ranks] if table in layouts("130") else []
        assert ours == sorted(ours, key=ranks.__getitem__), table
        checked += len(ours)
    assert checked > 400
    x2, x3 = layout("130", "XML2").field_names, layout("130", "XML3").field_names
    for names in (x2, x3):
        assert names.index("T_BNTT") < names.index("T_BNCCT") < names.index("T_BHTT")


def test_published_limits_are_those_every_4750_source_agrees_on():
    """Where the 4750 appendix, the receiving portal's sheet and the vendor's tables give one size
    (published.json), it is our limit ('n': none); a value beyond it is a warning on import."""
    import json
    from pathlib import Path

    from .values import max_length

    published = json.loads(Path(__file__).with_name("published.json").read_text(encoding="utf-8"))["tables"]["130"]
    agreed = 0
    for table, fields in published.items():
        if table not in layouts("130"):
            continue
        lay = layout("130", table)
        for rec in fields:
            f = lay.field(rec["name"])
            sizes = {str(rec.get("size", {}).get(s)) for s in ("qd4750_appendix", "portal_validation_4750", "dh_vendor_tables_4750")}
            if f is None or len(sizes) != 1 or "None" in sizes:
                continue
            (size,) = sizes
            assert max_length("130", table, f) == (None if size == "n" else int(size)), (table, f.name)
            agreed += 1
    assert agreed > 300
