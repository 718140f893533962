"""The parts of the patient page, one module each, in the order :data:`SECTIONS` lists them.

A section is a function ``(ctx, record) -> str`` returning escaped HTML (empty when it has
nothing to show); adding a part of the page is adding a module and a line here.
"""

from __future__ import annotations

from typing import Callable

from ..context import Ctx
from ..record import Record
from . import care, documents, header, labs, timeline, transfer, vitals

Section = Callable[[Ctx, Record], str]

SECTIONS: tuple[Section, ...] = (header.render, timeline.render, transfer.render, labs.render, vitals.render, care.render, documents.render)
