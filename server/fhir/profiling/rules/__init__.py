"""R4's own rules beyond the invariants, on any resource whatever its profiles, one module each.

Each is a ``check(resource, walk) -> issues`` (``walk``: the resource walked once, typed.Walk):
extensions (every extension against its definition), absolute_urls, attachments, enable_when,
search_definitions (SearchParameter and CapabilityStatement), bundle_rules and bundle_references
(Bundles), narrative_links; and two of the reference validator's options, security (HTML-like
text) and example_urls. ``validator.validate`` runs them; each never raises.
"""
