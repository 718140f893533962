"""Text that looks like embedded HTML, where a browser showing the data could run it.

A ``string`` is plain text and ``markdown`` is rendered as markdown; neither should carry HTML
tags. A client that inserts such a value into a page without escaping it runs whatever the
tags say (stored XSS), so a server that feeds a web front end can refuse them at the door.
Both checks are off by default (``validate(security_checks=True)``: strings, as the reference
validator's ``security-checks``; ``no_html_in_markdown=True``: markdown, as its
``noHtmlInMarkdown``); the narrative (``xhtml``) has its own rules (txt-1, txt-2).
"""

from __future__ import annotations

import re
from typing import Any

from ...outcome import Issue
from ..typed import Walk

#: an opening, closing or empty tag: ``<script>``, ``</b>``, ``<img src=x onerror=…>``, ``<br/>``
HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(\s[^<>]*)?/?>")


_STRINGS = frozenset({"string", "code"})  # markdown has its own switch; id, uri… cannot hold a tag's characters


def html_tag(text: str) -> str | None:
    """The first HTML-like tag in ``text``, or None."""
    found = HTML_TAG.search(text)
    return found.group(0) if found else None


def check(resource: dict[str, Any], *, strings: bool = False, markdown: bool = False, walk: Walk | None = None) -> list[Issue]:
    """An error for each string (``strings``) or markdown (``markdown``) value holding an HTML-like tag."""
    if not (strings or markdown):
        return []
    issues = []
    for el in (walk or Walk(resource)).elements:
        if not isinstance(el.value, str) or "<" not in el.value:
            continue
        if (el.type in _STRINGS and strings) or (el.type == "markdown" and markdown):
            tag = html_tag(el.value)
            if tag is not None:
                issues.append(Issue("security", f"{el.path}: the {el.type} contains text that looks like an embedded HTML tag ({tag[:40]}); "
                                                f"HTML is not allowed in {el.type} values on this server, as a page showing it could run it (rule: security)", (el.path,)))
    return issues
