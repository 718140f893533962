"""Profile validation: a resource against its base type and the StructureDefinitions it claims.

One module per rule kind (cardinality, values, binding, slicing, support, constraints), a walker
that applies them along a profile's differential, and the registry of known profiles. R4's own
rules on every resource, whatever its profiles: base_invariants (the official invariants of every
type, on each node by its type: typed), extensions (every extension against its definition),
absolute_urls, attachments, enable_when and search_definitions; the reference validator's options
security and example_urls. ``validate`` is the entry point; it never raises.
"""

from __future__ import annotations

from .registry import ProfileRegistry, default_registry
from .validator import validate

__all__ = ["validate", "ProfileRegistry", "default_registry"]
