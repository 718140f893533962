"""Example URLs (``http://example.org/…``) where real content is expected.

The examples of the FHIR specification use domains reserved for examples; a production
record that points at one is a copy-paste left in. Off by default (``validate(examples=False)``
turns it on, as the reference validator's ``examples: false``): every uri, url and canonical
whose host is an example domain is then an error. With examples allowed, an extension whose
URL is in such a domain is not reported as unknown, as the reference validator does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ...outcome import Issue
from ..typed import Walk

#: domains reserved or used for examples (RFC 2606's example.org and example.com, and the
#: fictitious company of the FHIR examples)
EXAMPLE_DOMAINS = ("example.org", "example.com", "acme.com")
_URI_TYPES = frozenset({"uri", "url", "canonical"})


def is_example(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return any(host == d or host.endswith("." + d) for d in EXAMPLE_DOMAINS)


def check(resource: dict[str, Any], walk: Walk | None = None) -> list[Issue]:
    """An error for every uri, url or canonical value that names an example domain."""
    return [
        Issue("value", f"{el.path}: '{el.value}' is an example URL ({', '.join(EXAMPLE_DOMAINS)}); example URLs are not allowed here (rule: examples)", (el.path,))
        for el in (walk or Walk(resource)).elements
        if el.type in _URI_TYPES and isinstance(el.value, str) and is_example(el.value)
    ]
