"""Example URLs (``http://example.org/…``): the domains the FHIR examples use.

With examples allowed, an extension whose URL is in such a domain is not reported as unknown,
as the reference validator does.
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: domains reserved or used for examples (RFC 2606's example.org and example.com, and the
#: fictitious company of the FHIR examples)
EXAMPLE_DOMAINS = ("example.org", "example.com", "acme.com")


def is_example(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return any(host == d or host.endswith("." + d) for d in EXAMPLE_DOMAINS)
