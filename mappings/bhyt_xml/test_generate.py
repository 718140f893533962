import io
import re
import tracemalloc
from pathlib import Path

import pytest

from .envelope import Episode, Header, read_envelope
from .generate import episodes, write_big_envelope, write_examples
from .layouts import layouts
from .values import check_episode
from .writer import EnvelopeWriter, write_envelope, write_envelope_to

EXAMPLES = Path(__file__).parents[2] / "examples" / "bhyt"


@pytest.mark.parametrize("std", ["130", "3176", "4210"])
def test_generated_episodes_are_valid(std):
    eps = list(episodes(11, 60, std))
    assert len(eps) == 60 and all(e.standard == std for e in eps)
    assert [p for e in eps for p in check_episode(e)] == []


@pytest.mark.parametrize("std", ["130", "3176", "4210"])
def test_deterministic_per_seed(std):
    assert list(episodes(5, 8, std)) == list(episodes(5, 8, std))
    assert list(episodes(5, 8, std)) != list(episodes(6, 8, std))


@pytest.mark.parametrize("std", ["130", "3176", "4210"])
def test_round_trip_through_the_envelope(std):
    eps = list(episodes(3, 20, std))
    back = list(read_envelope(io.BytesIO(write_envelope(Header(macskcb="79001"), eps))))
    assert back == eps  # generated values carry no blanks to trim
    assert [b.position for b in back] == list(range(1, 21))


@pytest.mark.parametrize("std", ["130", "3176", "4210"])
def test_every_field_of_the_layout_turns_up(std):
    seen = {(t, name) for e in episodes(1, 120, std) for t, rs in e.tables.items() for r in rs for name in r}
    missing = [(t, f.name) for t, lay in layouts(std).items() for f in lay.fields if (t, f.name) not in seen]
    assert missing == []


def test_realistic_content():
    eps = list(episodes(2, 60, "130"))
    xml1 = [e.tables["XML1"][0] for e in eps]
    assert all(len(r["HO_TEN"].split()) == 3 for r in xml1)
    assert any(re.search(r"[ĐđƯưƠơ]", r["HO_TEN"]) for r in xml1)
    cards = {len(r["MA_THE_BHYT"].split(";")) for r in xml1}
    assert cards == {1, 2, 3}
    assert all(len(r["MA_THE_BHYT"].split(";")) == len(r["GT_THE_TU"].split(";")) for r in xml1 if "GT_THE_TU" in r)
    assert all(r["NGAY_VAO"] <= r["NGAY_RA"] for r in xml1 if "NGAY_VAO" in r and "NGAY_RA" in r)
    money = [v for e in eps for t in ("XML2", "XML3") for r in e.tables[t] for k, v in r.items()
             if k.startswith("THANH_TIEN")]
    assert any("." in m for m in money) and any("." not in m for m in money)
    rows = {t: max(len(e.tables.get(t, [])) for e in eps) for t in ("XML2", "XML3", "XML4", "XML5")}
    assert all(n >= 3 for n in rows.values()), rows
    optional = {t for e in eps for t in e.tables} - {"XML1", "XML2", "XML3", "XML4", "XML5"}
    assert optional == {"XML0", "XML6", "XML7", "XML8", "XML9", "XML10", "XML11", "XML12", "XML13", "XML14", "XML15"}
    assert any(len(e.tables) <= 5 for e in eps)  # the optional tables are only sometimes there
    assert any(r["NGAY_SINH"].endswith("00000000") or r["NGAY_SINH"].endswith("0000") for r in xml1
               if "NGAY_SINH" in r)


def test_examples_are_the_generators_output(tmp_path):
    names = write_examples(tmp_path)
    assert names == ["giamdinhhs-130.xml", "giamdinhhs-3176.xml", "giamdinhhs-4210.xml"]
    for name in names:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), \
            f"examples/bhyt/{name} is stale: run python -m mappings.bhyt_xml.generate examples/bhyt"
    eps130 = list(read_envelope(tmp_path / "giamdinhhs-130.xml"))
    eps4210 = list(read_envelope(tmp_path / "giamdinhhs-4210.xml"))
    assert len(eps130) == 4 and len(eps4210) == 3
    assert all(isinstance(e, Episode) and not check_episode(e) for e in eps130 + eps4210)
    assert {e.standard for e in eps130} == {"130"} and {e.standard for e in eps4210} == {"4210"}
    assert len({t for e in eps130 for t in e.tables}) >= 12
    eps3176 = list(read_envelope(tmp_path / "giamdinhhs-3176.xml"))
    assert len(eps3176) == 2 and {e.standard for e in eps3176} == {"3176"}
    assert all(not check_episode(e) and "MA_CSKCB_DI" in e.tables["XML13"][0] for e in eps3176)


def test_streaming_writer_matches_write_envelope():
    eps = list(episodes(4, 5, "130")) + list(episodes(4, 2, "4210"))
    head = Header(macskcb="46001", ngaylap="20250115", soluonghoso="7", chukydonvi="<CHUKYDONVI/>")
    buf = io.BytesIO()
    assert write_envelope_to(buf, head, eps) == 7
    assert buf.getvalue() == write_envelope(head, eps)


def test_streaming_writer_fills_in_the_count_at_the_end():
    eps = list(episodes(4, 3, "4210"))
    buf = io.BytesIO()
    with EnvelopeWriter(buf, Header(macskcb="01001")) as w:
        for e in eps:
            w.write(e)
    reader = read_envelope(io.BytesIO(buf.getvalue()))
    assert list(reader) == eps and reader.header.soluonghoso == "3"

    class Pipe(io.RawIOBase):
        def writable(self):
            return True

        def seekable(self):
            return False

    with pytest.raises(ValueError, match="SOLUONGHOSO"):
        EnvelopeWriter(Pipe(), Header())


def test_big_envelope_streams_with_bounded_memory(tmp_path):
    path = tmp_path / "big.xml"
    target = 3_000_000
    tracemalloc.start()
    try:
        n = write_big_envelope(path, target, seed=9)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = path.stat().st_size
    assert target <= size < target + 200_000
    assert peak < 2_000_000, f"peak {peak} bytes while writing {size}"  # one episode, not the file
    reader = read_envelope(path)
    eps = list(reader)
    assert len(eps) == n > 50 and reader.header.soluonghoso == str(n)
    assert all(isinstance(e, Episode) and e.standard == "130" for e in eps)
    assert eps[:3] == list(episodes(9, 3, "130"))
