import base64
import io
import json
import os
import tempfile
import tracemalloc
from pathlib import Path

import pytest

from .envelope import (BrokenEpisode, EnvelopeError, Episode, UnsafeXMLError, _safe_parser,
                       read_envelope)
from .writer import table_document
from .layouts import layout

DATA = Path(__file__).with_name("testdata")
LK = "4200190798379130"


def b64(doc: bytes, width: int = 0) -> str:
    s = base64.b64encode(doc).decode()
    return "\r\n".join(s[i:i + width] for i in range(0, len(s), width)) if width else s


def envelope(*hosos: list[tuple[str, str]], bom=False, crlf=False) -> bytes:
    body = "".join(
        "<HOSO>" + "".join(f"<FILEHOSO><LOAIHOSO>{l}</LOAIHOSO><NOIDUNGFILE>{c}</NOIDUNGFILE></FILEHOSO>"
                           for l, c in h) + "</HOSO>\n" for h in hosos)
    text = ('<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS><THONGTINDONVI><MACSKCB>46001</MACSKCB>'
            f'</THONGTINDONVI><THONGTINHOSO><NGAYLAP>20250115</NGAYLAP><SOLUONGHOSO>{len(hosos)}</SOLUONGHOSO>'
            f'<DANHSACHHOSO>\n{body}</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI/></GIAMDINHHS>\n')
    if crlf:
        text = text.replace("\n", "\r\n")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode()


def xml1_130(lk=LK, name="Nguyễn Văn A"):
    return (f"<TONG_HOP><MA_LK>{lk}</MA_LK><STT>1</STT><HO_TEN>{name}</HO_TEN>"
            f"<MA_THE_BHYT>HS4788598980006</MA_THE_BHYT></TONG_HOP>").encode()


def good_hoso(lk=LK):
    return [("XML1", b64(xml1_130(lk)))]


def read(data: bytes):
    r = read_envelope(io.BytesIO(data))
    return r, list(r)


@pytest.mark.parametrize("std", ["130", "4210"])
def test_samples_decode_as_documented(std):
    r = read_envelope(DATA / f"giamdinhhs-{std}.xml")
    eps = list(r)
    expected = json.loads((DATA / f"giamdinhhs-{std}.decoded.json").read_text(encoding="utf-8"))
    assert all(isinstance(e, Episode) and e.standard == std for e in eps)
    assert {e.ma_lk: e.tables for e in eps} == expected
    assert [e.position for e in eps] == list(range(1, len(eps) + 1))
    assert (r.header.macskcb, r.header.ngaylap, r.header.soluonghoso) == ("42001", "20250601", str(len(eps)))
    assert r.header.chukydonvi == "<CHUKYDONVI/>"


def test_signature_kept_verbatim():
    sig = ('<CHUKYDONVI><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo a=">"/>'
           '<SignatureValue>QUJD\nREVG</SignatureValue></Signature></CHUKYDONVI >')
    data = envelope(good_hoso()).replace(b"<CHUKYDONVI/>", sig.encode())
    r = read_envelope(io.BytesIO(data), chunk_size=7)
    assert len(list(r)) == 1 and r.header.chukydonvi == sig


def test_real_world_quirks():
    xml2 = layout("130", "XML2")
    rows = "".join(f"<CHI_TIET_THUOC><MA_LK> {LK} </MA_LK><STT>{i}</STT><TEN_THUOC><![CDATA[ Para <500> & co ]]>"
                   f"</TEN_THUOC><GHI_CHU/></CHI_TIET_THUOC>" for i in (1, 2))
    doc2 = f"\ufeff<{xml2.root}>\r\n<{xml2.list}>{rows}</{xml2.list}>\r\n</{xml2.root}>".encode("utf-8")
    empty4 = b'<?xml version="1.0" encoding="utf-8"?>\r\n<CHITIEU_CHITIET_DICHVUCANLAMSANG/>'
    empty5 = b"<CHITIEU_CHITIET_DIENBIENLAMSANG><DSACH_CHI_TIET_DIEN_BIEN_BENH/></CHITIEU_CHITIET_DIENBIENLAMSANG>"
    one = ('<?xml version="1.0" encoding="utf-8"?>\r\n'.encode() + xml1_130(name=" Võ  Thị Nga\t"))
    data = envelope([("xml2", b64(doc2, 60)), (" Xml4 ", b64(empty4, 10)), ("XML05", b64(empty5)),
                     ("Xml1", b64(one, 76))], bom=True, crlf=True)
    r, eps = read(data)
    assert len(eps) == 1 and isinstance(eps[0], Episode), eps
    ep = eps[0]
    assert list(ep.tables) == ["XML1", "XML2", "XML4", "XML5"] and ep.standard == "130"
    assert ep.tables["XML1"][0]["HO_TEN"] == "Võ  Thị Nga"
    assert ep.tables["XML2"][1] == {"MA_LK": LK, "STT": "2", "TEN_THUOC": "Para <500> & co", "GHI_CHU": ""}
    assert ep.tables["XML4"] == [] and ep.tables["XML5"] == []
    assert r.header.macskcb == "46001"


def test_broken_hoso_among_good_ones():
    other = "4200169839850811"
    xml3_other = (b"<CHITIEU_CHITIET_DVKT_VTYT><DSACH_CHI_TIET_DVKT><CHI_TIET_DVKT><MA_LK>" + other.encode()
                  + b"</MA_LK></CHI_TIET_DVKT></DSACH_CHI_TIET_DVKT></CHITIEU_CHITIET_DVKT_VTYT>")
    no_lk = b"<TONG_HOP><STT>1</STT><MA_THE_BHYT>X</MA_THE_BHYT></TONG_HOP>"
    data = envelope(
        good_hoso("1"),
        [("XML1", "!!!not base64$$"), ("XML2", b64(b"<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>")),
         ("XML99", b64(xml1_130()))],
        good_hoso("2"),
        [("XML1", b64(xml1_130())), ("XML3", b64(xml3_other))],
        [("XML1", b64(no_lk))],
        good_hoso("3"),
    )
    _, eps = read(data)
    assert [type(e).__name__ for e in eps] == ["Episode", "BrokenEpisode", "Episode", "BrokenEpisode",
                                              "BrokenEpisode", "Episode"]
    assert [e.ma_lk for e in eps if isinstance(e, Episode)] == ["1", "2", "3"]
    b = eps[1]
    assert b.position == 2 and len(b.reasons) >= 3
    text = " | ".join(b.reasons)
    assert "bad base64" in text and "malformed XML" in text and "XML99: unknown table" in text
    assert eps[3].ma_lk == LK and "MA_LK mismatch" in " ".join(eps[3].reasons)
    assert eps[4].position == 5 and "no MA_LK" in " ".join(eps[4].reasons)


BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 or "")) * 10}">'.encode() for i in range(1, 10))
                  + b"]>\n")


def test_billion_laughs_envelope_rejected():
    data = envelope(good_hoso())
    data = data.replace(b"<GIAMDINHHS>", BILLION_LAUGHS + b"<GIAMDINHHS>").replace(b"46001", b"&lol9;")
    with pytest.raises(UnsafeXMLError, match="DOCTYPE/ENTITY"):
        read(data)


def test_xxe_and_laughs_inside_noidungfile_break_only_that_hoso():
    xxe = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b"<TONG_HOP><MA_LK>&x;</MA_LK></TONG_HOP>")
    laughs = BILLION_LAUGHS + b"<TONG_HOP><MA_LK>&lol9;</MA_LK></TONG_HOP>"
    _, eps = read(envelope(good_hoso("1"), [("XML1", b64(xxe))], [("XML1", b64(laughs))], good_hoso("2")))
    assert [getattr(e, "ma_lk", None) for e in eps] == ["1", None, None, "2"]
    for e in eps[1:3]:
        assert isinstance(e, BrokenEpisode) and "DOCTYPE/ENTITY" in e.reasons[0]


def test_parser_itself_refuses_doctype():
    # the byte scan comes first; the parser must refuse on its own too
    p = _safe_parser()
    with pytest.raises(UnsafeXMLError):
        p.Parse(b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>', True)


def test_size_caps():
    big = b"<TONG_HOP><MA_LK>1</MA_LK><HO_TEN>" + b"a" * 5000 + b"</HO_TEN></TONG_HOP>"
    r = read_envelope(io.BytesIO(envelope([("XML1", b64(big))], good_hoso("2"))), max_table_bytes=1000)
    eps = list(r)
    assert isinstance(eps[0], BrokenEpisode) and "larger than 1000" in eps[0].reasons[0]
    assert eps[1].ma_lk == "2"
    r = read_envelope(io.BytesIO(envelope([("XML1", b64(big))], good_hoso("2"))), max_hoso_bytes=2000)
    eps = list(r)
    assert "HOSO larger than 2000" in eps[0].reasons[0] and eps[1].ma_lk == "2"


def test_malformed_envelope():
    with pytest.raises(EnvelopeError, match="GIAMDINHHS"):
        read(b"<OTHER/>")
    data = envelope(good_hoso("1"), good_hoso("2"))
    r = read_envelope(io.BytesIO(data[:-40]))
    got = []
    with pytest.raises(EnvelopeError, match="malformed"):
        for e in r:
            got.append(e)
    assert [e.ma_lk for e in got] == ["1", "2"]


def test_memory_stays_bounded_on_a_large_envelope():
    lay = layout("130", "XML2")
    rec = {f.name: ("1" if f.kind != "text" else "Thuốc viên nén bao phim") for f in lay.fields}
    rec["MA_LK"] = LK
    hoso = ("<HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>" + b64(xml1_130(), 76)
            + "</NOIDUNGFILE></FILEHOSO><FILEHOSO><LOAIHOSO>XML2</LOAIHOSO><NOIDUNGFILE>"
            + b64(table_document(lay, [rec] * 20), 76) + "</NOIDUNGFILE></FILEHOSO></HOSO>\n").encode()
    head, tail = envelope().split(b"</DANHSACHHOSO>")
    n = 30 * 1024 * 1024 // len(hoso)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "big.xml")
        with open(path, "wb") as f:
            f.write(head)
            for _ in range(n):
                f.write(hoso)
            f.write(b"</DANHSACHHOSO>" + tail)
        size = os.path.getsize(path)
        tracemalloc.start()
        try:
            count = 0
            for e in read_envelope(path):
                assert isinstance(e, Episode)
                count += 1
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert count == n and size > 28 * 1024 * 1024
    assert peak < size * 0.25, (peak, size)


def test_check_in_and_assessment_tables_are_read():
    """XML0 (check-in: many rows, each with MA_LK) and XML12 (medical assessment: no MA_LK) in a
    HOSO; XML12 in either shape producers write (flat, or a list of GIAM_DINH_Y_KHOA)."""
    xml0 = (f"<CHI_TIEU_TRANG_THAI_KCB><DSACH_TRANG_THAI_KCB><TRANG_THAI_KCB><MA_LK>{LK}</MA_LK><STT>1</STT>"
            "<MA_DOITUONG_KCB>1.12</MA_DOITUONG_KCB></TRANG_THAI_KCB></DSACH_TRANG_THAI_KCB>"
            "</CHI_TIEU_TRANG_THAI_KCB>").encode()
    flat = "<CHI_TIEU_DU_LIEU_GIAM_DINH_YKHOA><NGUOI_CHU_TRI>Lê C</NGUOI_CHU_TRI><CHUC_VU>1</CHUC_VU></CHI_TIEU_DU_LIEU_GIAM_DINH_YKHOA>"
    listed = ("<CHI_TIEU_DU_LIEU_GIAM_DINH_Y_KHOA><DSACH_GIAM_DINH_Y_KHOA><GIAM_DINH_Y_KHOA><NGUOI_CHU_TRI>Lê C</NGUOI_CHU_TRI>"
              "<CHUC_VU>1</CHUC_VU></GIAM_DINH_Y_KHOA></DSACH_GIAM_DINH_Y_KHOA></CHI_TIEU_DU_LIEU_GIAM_DINH_Y_KHOA>")
    for xml12 in (flat, listed):
        _, (ep,) = read(envelope(good_hoso() + [("XML0", b64(xml0)), ("XML12", b64(xml12.encode()))]))
        assert isinstance(ep, Episode), ep
        assert ep.tables["XML0"] == [{"MA_LK": LK, "STT": "1", "MA_DOITUONG_KCB": "1.12"}]
        assert ep.tables["XML12"] == [{"NGUOI_CHU_TRI": "Lê C", "CHUC_VU": "1"}]
        assert list(ep.tables) == ["XML0", "XML1", "XML12"]


def test_a_3176_hoso_is_recognised_by_its_transfer_paper():
    xml13 = (f"<CHI_TIEU_GIAYCHUYENTUYEN><MA_LK>{LK}</MA_LK><MA_CSKCB_DI>46001;79001</MA_CSKCB_DI>"
             "<TINH_TRANG_CT>Tỉnh</TINH_TRANG_CT></CHI_TIEU_GIAYCHUYENTUYEN>").encode()
    _, (ep,) = read(envelope(good_hoso() + [("XML13", b64(xml13))]))
    assert isinstance(ep, Episode) and ep.standard == "3176"
    _, (plain,) = read(envelope(good_hoso()))
    assert plain.standard == "130"


def test_a_check_in_documents_own_signature_is_noted_not_kept():
    from .values import review_episode

    xml0 = (f"<CHI_TIEU_TRANG_THAI_KCB><DSACH_TRANG_THAI_KCB><TRANG_THAI_KCB><MA_LK>{LK}</MA_LK></TRANG_THAI_KCB>"
            "</DSACH_TRANG_THAI_KCB><CHUKYDONVI><Signature><SignatureValue>abc=</SignatureValue></Signature>"
            "</CHUKYDONVI></CHI_TIEU_TRANG_THAI_KCB>").encode()
    _, (ep,) = read(envelope(good_hoso() + [("XML0", b64(xml0))]))
    assert isinstance(ep, Episode) and ep.tables["XML0"] == [{"MA_LK": LK}]
    assert review_episode(ep, strict=True).warnings == ["XML0: its own <CHUKYDONVI> signature was not kept (it cannot stay valid once mapped)"]


def test_undecoded_hoso_decode_to_what_the_reader_gives():
    """read_envelope(decode=False) + finish_hoso (what the import's workers do) == read_envelope."""
    from .envelope import RawHoso, finish_hoso

    data = envelope(good_hoso(), [("XML1", "!!notbase64")], good_hoso("LK2"))
    _, direct = read(data)
    raw = list(read_envelope(io.BytesIO(data), decode=False))
    assert all(isinstance(r, RawHoso) for r in raw)
    back = [finish_hoso(r) for r in raw]
    assert back == direct and [b.span for b in back] == [d.span for d in direct]
    assert isinstance(back[1], BrokenEpisode) and back[1].position == 2


# --------------------------------------------------------------------------- tables as inline XML

def test_a_table_held_as_inline_xml_reads_as_its_base64_form_with_a_note():
    """testdata/inline-xml.xml is realistic/plain.xml with every NOIDUNGFILE holding the table
    document as XML elements instead of base64 (an export option of some hospital software)."""
    plain = list(read_envelope(DATA / "realistic" / "plain.xml"))
    for decode in (True, False):
        got = list(read_envelope(DATA / "inline-xml.xml", decode=decode))
        if not decode:
            from .envelope import finish_hoso
            got = [finish_hoso(r) for r in got]
        assert [type(e) for e in got] == [Episode]
        assert got[0].tables == plain[0].tables
        assert got[0].notes == [f"{t}: NOIDUNGFILE held the table as inline XML, not base64 (read as it is)" for t in plain[0].tables]


def test_inline_xml_keeps_escaped_text_and_refuses_mixing():
    name = "Lê & <Hà> \"A\""
    inline = xml1_130(name="Lê &amp; &lt;Hà&gt; \"A\"").decode()
    (ep,) = read_envelope(io.BytesIO(envelope([("XML1", inline)])))
    assert isinstance(ep, Episode) and ep.tables["XML1"][0]["HO_TEN"] == name
    (cdata,) = read_envelope(io.BytesIO(envelope([("XML1", inline.replace("<HO_TEN>Lê &amp; &lt;Hà&gt; \"A\"", "<HO_TEN><![CDATA[Lê & <Hà> \"A\"]]>"))])))
    assert cdata.tables["XML1"][0]["HO_TEN"] == name
    (mixed,) = read_envelope(io.BytesIO(envelope([("XML1", b64(xml1_130()) + inline)])))
    assert isinstance(mixed, BrokenEpisode) and any("mixes base64 text and XML elements" in r for r in mixed.reasons)
    (junk,) = read_envelope(io.BytesIO(envelope([("XML1", inline + "trailing")])))
    assert isinstance(junk, BrokenEpisode) and junk.reasons[0].startswith("XML1:")


# --------------------------------------------------------------------------- unknown elements in GIAMDINHHS

def _with_junk(n: int) -> bytes:
    base = envelope([("XML1", b64(xml1_130()))])
    return base.replace(b"<THONGTINDONVI>", b"<JUNK><A><B>x</B></A></JUNK>" * n + b"<EXTRA/><THONGTINDONVI>", 1)


def test_unknown_elements_inside_giamdinhhs_are_reported_once_with_a_count():
    reader = read_envelope(io.BytesIO(_with_junk(3)))
    assert [type(e) for e in reader] == [Episode]
    (warning,) = reader.warnings
    assert "<JUNK> (3 times)" in warning and "<EXTRA> (1 time)" in warning
    assert "THONGTINDONVI" not in warning and "<A>" not in warning  # only direct children, only unknown ones
    plain = read_envelope(io.BytesIO(envelope([("XML1", b64(xml1_130()))])))
    list(plain)
    assert plain.warnings == []


def test_junk_costs_linear_time():
    """500,000 unknown nested elements: read in bounded time, and the cost grows linearly."""
    import time

    def cost(n: int) -> float:
        best = float("inf")
        for _ in range(2):
            data = _with_junk(n)
            started = time.perf_counter()
            reader = read_envelope(io.BytesIO(data))
            assert len(list(reader)) == 1
            best = min(best, time.perf_counter() - started)
        return best

    small, large = cost(50_000), cost(500_000)
    assert large < 10 * small * 2.5, (small, large)  # 10x the junk: about 10x the time, far from 100x
    assert large < 30
