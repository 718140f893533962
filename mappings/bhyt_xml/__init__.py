"""Insurance (BHYT) XML tables — GIAMDINHHS envelopes, standards 130 (with 4750), 3176 and 4210.

- ``layouts``: table layouts (``layouts.json``) and ``recognise(table, fields)``.
- ``envelope``: streaming, safe reader ``read_envelope(source)``.
- ``writer``: ``write_envelope(header, episodes, standard=None)``.
"""
from .envelope import (BrokenEpisode, EnvelopeError, EnvelopeReader, Episode, Header,
                       UnsafeXMLError, read_envelope)
from .layouts import UnknownStandard, layout, layouts, recognise
from .writer import write_envelope

__all__ = ["BrokenEpisode", "EnvelopeError", "EnvelopeReader", "Episode", "Header", "UnsafeXMLError",
           "UnknownStandard", "layout", "layouts", "read_envelope", "recognise", "write_envelope"]
