import pytest

from .layouts import UnknownStandard, layout, layouts, recognise


def test_known_facts():
    x1 = layout("130", "XML1")
    assert x1.root == "TONG_HOP" and x1.single and len(x1.fields) == 66
    assert "MA_THE_BHYT" in x1.field_names and x1.field_names[0] == "MA_LK"
    assert "MA_THE" in layout("4210", "XML1").field_names
    assert list(layouts("4210")) == ["XML1", "XML2", "XML3", "XML4", "XML5"]
    assert list(layouts("130")) == [f"XML{i}" for i in range(16)]  # XML0 (check-in) … XML15
    x0, x12 = layout("130", "XML0"), layout("130", "XML12")
    assert (x0.root, x0.list, x0.record) == ("CHI_TIEU_TRANG_THAI_KCB", "DSACH_TRANG_THAI_KCB", "TRANG_THAI_KCB")
    assert len(x0.fields) == 26 and len(x12.fields) == 35 and x12.field("MA_LK") is None
    assert x12.single and [s.record for s in x12.also_read] == ["GIAM_DINH_Y_KHOA"]
    x2 = layout("130", "XML2")
    assert (x2.list, x2.record) == ("DSACH_CHI_TIET_THUOC", "CHI_TIET_THUOC")
    assert x2.field("MA_LK").max_length == 100


def test_recognise():
    assert recognise("XML1", ["MA_LK", "MA_THE_BHYT"]) == "130"
    assert recognise("XML1", ["MA_LK", "MA_THE"]) == "4210"
    assert recognise("XML7", ["MA_LK"]) == "130"
    assert recognise("XML13", ["MA_LK", "MA_CSKCB_DI", "TINH_TRANG_CT"]) == "3176"
    assert recognise("XML13", ["MA_LK", "MA_NOI_DI", "PP_DIEU_TRI"]) == "130"
    assert recognise("XML13", ["MA_LK", "HO_TEN"]) == "130"  # 130 and 3176 read the same: 130
    with pytest.raises(UnknownStandard):
        recognise("XML1", ["MA_LK", "STT"])


def test_3176_is_130_with_its_published_changes():
    """3176 differs from 130 only where its implementations show it (layouts.json _about): the
    XML13 names and MA_TTDV's length."""
    renamed = {"MA_NOI_DI": "MA_CSKCB_DI", "MA_NOI_DEN": "MA_CSKCB_DEN", "PP_DIEU_TRI": "TINH_TRANG_CT"}
    assert list(layouts("3176")) == list(layouts("130"))
    for table, lay in layouts("130").items():
        other = layout("3176", table)
        assert (other.root, other.list, other.record) == (lay.root, lay.list, lay.record)
        names = [renamed.get(n, n) if table == "XML13" else n for n in lay.field_names]
        assert list(other.field_names) == names, table
        for a, b in zip(lay.fields, other.fields):
            assert a.kind == b.kind and (a.max_length == b.max_length or a.name == "MA_TTDV" and b.max_length == 255 or
                                         a.name in renamed), (table, a, b)
    assert layout("3176", "XML13").field("MA_CSKCB_DI").max_length == 100


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
        assert set(ours) == set(ranks), table  # every published field, no other
        checked += len(ours)
    assert checked > 460
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


def test_3176_order_is_its_implementations_order():
    """The 3176 layout lists every field of the 3176 implementation's tables, in its order
    (published.json qhis_qd3176_entities; it has no XML0)."""
    import json
    from pathlib import Path

    published = json.loads(Path(__file__).with_name("published.json").read_text(encoding="utf-8"))["tables"]["3176"]
    for table, fields in published.items():
        order = [f["name"] for f in sorted(fields, key=lambda f: f["order"]["qhis_qd3176_entities"])]
        assert list(layout("3176", table).field_names) == order, table
    assert set(layouts("3176")) - set(published) == {"XML0"}
