"""The HTTP layer; importing it registers the ``rtype`` path convertor its routers use."""

from . import routing as _routing  # noqa: F401  (registers {type_:rtype} before any router is built)
