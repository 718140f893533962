"""R4's RESTful URLs, as the Bundle rules read them.

R4 (references.html) defines a resource's RESTful URL by a regex: an optional
``http(s)://`` server base, a resource type, an id and an optional ``/_history/`` version.
Bundle.entry.fullUrl values of that form must agree with the resource they name, and a
relative reference (``Patient/1``) in a Bundle is resolved against such a base
(bundle.html#references). Other absolute URLs (``urn:uuid:``, ``urn:oid:``) are names,
compared as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ...validation import known_resource_types

#: a URI scheme (RFC 3986) followed by something without spaces
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")


@dataclass(frozen=True, slots=True)
class RestUrl:
    """A URL of R4's RESTful form: ``base`` ("" when relative) + ``type/id`` (+ ``/_history/version``)."""

    base: str
    type: str
    id: str
    version: str | None

    @property
    def unversioned(self) -> str:
        return f"{self.base}{self.type}/{self.id}"


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    types = "|".join(sorted(known_resource_types(), key=len, reverse=True))
    # R4 references.html: ((http|https)://([A-Za-z0-9\-\\\.\:\%\$]*\/)+)?(types)\/[A-Za-z0-9\-\.]{1,64}(\/_history\/[A-Za-z0-9\-\.]{1,64})?
    return re.compile(
        r"(?P<base>(?:https?)://(?:[A-Za-z0-9\-\\.:%$]*/)+)?"
        rf"(?P<type>{types})/(?P<id>[A-Za-z0-9\-.]{{1,64}})(?:/_history/(?P<version>[A-Za-z0-9\-.]{{1,64}}))?"
    )


@lru_cache(maxsize=8192)
def rest_url(value: str) -> RestUrl | None:
    """``value`` read as a RESTful URL (absolute or relative), or None if it is not one
    (cached: a Bundle repeats its fullUrls and references)."""
    m = _pattern().fullmatch(value)
    if m is None:
        return None
    return RestUrl(m.group("base") or "", m.group("type"), m.group("id"), m.group("version"))


def is_absolute(value: str) -> bool:
    """An absolute URI: a scheme, then something (``Patient/1`` and ``#a`` are not)."""
    return _ABSOLUTE.fullmatch(value) is not None
