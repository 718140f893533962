"""Builders of the project's conformance resources, one module per kind (used by profiles.generate)."""
