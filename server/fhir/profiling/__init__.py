"""Profile validation: a resource against its base type and the StructureDefinitions it claims.

One module per rule kind (cardinality, values, binding, slicing, support, constraints,
base_invariants, extensions), a walker that applies them along a profile's differential, and the
registry of known profiles. ``validate`` is the entry point; it never raises.
"""

from __future__ import annotations

from .registry import ProfileRegistry, default_registry
from .validator import validate

__all__ = ["validate", "ProfileRegistry", "default_registry"]
