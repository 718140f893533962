"""The words of a transfer-dataset code (``mappings/transfer54/codes.json``), in the page's language."""

from __future__ import annotations

from mappings.transfer54.fields import BY_NAME, CODE_TABLES


def code_words(field: str, code: str | None, lang: str) -> str:
    """The words of ``code`` in ``field``'s code table; empty when it has none or the code is unlisted."""
    table = BY_NAME[field].code_table
    entry = CODE_TABLES[table].codes.get(code or "") if table else None
    return "" if entry is None else (entry.en if lang == "en" else entry.vi)
