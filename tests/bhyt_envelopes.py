"""Insurance envelopes for the CLI, import and REST tests: good HOSO from the project's generator,
and one broken HOSO per way real files break (bad base64, malformed table, invalid date, no MA_LK).

Envelopes are assembled from whole ``<HOSO>`` elements (bytes) so a test can put good and broken
ones in any order, and find a broken one again, byte for byte, in the quarantine.
"""

from __future__ import annotations

import base64
import copy
import re
from dataclasses import dataclass

from mappings.bhyt_xml.envelope import Episode, Header
from mappings.bhyt_xml.generate import episodes
from mappings.bhyt_xml.writer import write_envelope

_HOSO = re.compile(rb"<HOSO>.*?</HOSO>", re.DOTALL)
_CONTENT = re.compile(rb"(<LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>)([^<]*)(</NOIDUNGFILE>)")
HEADER = Header(macskcb="79001", ngaylap="20251028")


def generated(seed: int, count: int, standard: str = "130") -> list[Episode]:
    return list(episodes(seed, count, standard))


def hoso(ep: Episode) -> bytes:
    """The ``<HOSO>`` element the writer makes for one episode."""
    m = _HOSO.search(write_envelope(HEADER, [ep]))
    assert m is not None
    return m.group()


def envelope(hosos: list[bytes], header: Header = HEADER) -> bytes:
    head = (f'<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n<THONGTINDONVI><MACSKCB>{header.macskcb}</MACSKCB>'
            f'</THONGTINDONVI><THONGTINHOSO><NGAYLAP>{header.ngaylap}</NGAYLAP><SOLUONGHOSO>{len(hosos)}</SOLUONGHOSO>'
            "<DANHSACHHOSO>\n").encode()
    return head + b"\n".join(hosos) + b"\n</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI/></GIAMDINHHS>\n"


def _replace_xml1(element: bytes, content: bytes) -> bytes:
    out, n = _CONTENT.subn(lambda m: m.group(1) + content + m.group(3), element, count=1)
    assert n == 1
    return out


def bad_base64(ep: Episode) -> bytes:
    return _replace_xml1(hoso(ep), b"@@@ this is not base64 @@@")


def malformed_table(ep: Episode) -> bytes:
    doc = f'<?xml version="1.0" encoding="utf-8"?><TONG_HOP><MA_LK>{ep.ma_lk}</MA_LK><HO_TEN>A</TONG_HOP>'.encode()
    return _replace_xml1(hoso(ep), base64.b64encode(doc))


def with_field(ep: Episode, table: str, name: str, value: str) -> Episode:
    out = copy.deepcopy(ep)
    out.tables[table][0][name] = value
    return out


def invalid_date(ep: Episode) -> tuple[bytes, str]:
    """The HOSO with XML1 NGAY_VAO set to 13/99, and the field named in the reason."""
    return hoso(with_field(ep, "XML1", "NGAY_VAO", "202513990000")), "NGAY_VAO"


def without_ma_lk(ep: Episode) -> bytes:
    out = copy.deepcopy(ep)
    for records in out.tables.values():
        for r in records:
            r.pop("MA_LK", None)
    return hoso(out)


@dataclass
class Mixed:
    """An envelope of good and broken HOSO, and what each position should become."""

    data: bytes
    good: list[Episode]  # in envelope order
    broken: dict[int, tuple[bytes, str, Episode]]  # position → (HOSO bytes, expected reason word, the episode repaired)
    positions: dict[int, Episode]  # position → good episode


def mixed(seed: int = 5, standard: str = "130") -> Mixed:
    """Eight HOSO: good, bad base64, good, malformed table, good, invalid date, missing MA_LK, good."""
    eps = generated(seed, 8, standard)
    date_hoso, date_field = invalid_date(eps[5])
    broken = {
        2: (bad_base64(eps[1]), "base64", eps[1]),
        4: (malformed_table(eps[3]), "malformed", eps[3]),
        6: (date_hoso, date_field, eps[5]),
        7: (without_ma_lk(eps[6]), "MA_LK", eps[6]),
    }
    elements = [broken[i][0] if i in broken else hoso(ep) for i, ep in enumerate(eps, 1)]
    positions = {i: ep for i, ep in enumerate(eps, 1) if i not in broken}
    return Mixed(envelope(elements), list(positions.values()), broken, positions)
