"""Simple data tables for the pages: a caption, column heads, rows of escaped cells.

Each cell carries its column's name (``data-label``) so the stylesheet can stack a row as a
card on a phone; the table sits in a ``.table-wrap`` so a wide one scrolls by itself, never
the page.
"""

from __future__ import annotations

from typing import Sequence

from .layout import h


def table(heads: Sequence[str], rows: Sequence[Sequence[str]], *, caption: str = "", stack: bool = True, numeric: Sequence[int] = ()) -> str:
    """``heads`` are plain text, ``rows`` escaped HTML cells; ``numeric`` columns align right."""
    right = ' class="num"'
    head = "".join(f'<th scope="col">{h(x)}</th>' for x in heads)
    body = "".join(
        "<tr>" + "".join(
            f'<td data-label="{h(heads[i]) if i < len(heads) else ""}"{right if i in numeric else ""}>{cell}</td>'
            for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    cap = f"<caption>{h(caption)}</caption>" if caption else ""
    cls = ' class="stack"' if stack else ""
    return f'<div class="table-wrap"><table{cls}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
