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
