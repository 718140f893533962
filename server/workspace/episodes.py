"""How a page names an episode (Encounter) and links to it; which episode a resource belongs
to is :func:`~server.workspace.record.episode_of`."""

from __future__ import annotations

from typing import Any

from . import present, urls
from .context import Ctx
from .layout import h
from .record import Record, episode_of


def label(record: Record, encounter: dict[str, Any]) -> str:
    """An episode as a doctor names it: its start date and facility."""
    start = present.day((encounter.get("period") or {}).get("start"))
    return " · ".join(x for x in (start, record.facility(encounter)) if x) or str(encounter.get("id", ""))


def link(ctx: Ctx, record: Record, resource: dict[str, Any]) -> str:
    """A link to the episode of ``resource`` (escaped HTML), empty when it has none in the record."""
    eid = episode_of(resource)
    encounter = record.by_ref.get(("Encounter", eid)) if eid else None
    if encounter is None:
        return ""
    return f'<a href="{h(urls.episode(record.patient["id"], eid))}">{h(label(record, encounter))}</a>'
