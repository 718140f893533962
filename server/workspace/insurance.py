"""An episode's insurance tables (XML1…XML15) as the ``$bhyt-xml`` operation writes them, shown as HTML tables.

The envelope comes from :func:`~server.fhir.operations.bhyt.export_bhyt` (through the signed-in
token's repository) and is read back with the envelope reader, so the page shows exactly what the
download holds. Columns are the table's fields in the order of its layout (``layouts.json``);
a field no row fills is left out, so a table is as wide as its data.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from mappings.bhyt_xml.envelope import Episode, read_envelope
from mappings.bhyt_xml.layouts import STANDARDS, layouts, table_sort_key
from profiles import EXT

from ..fhir.operations.bhyt import export_bhyt
from ..fhir.outcome import FhirError
from ..fhir.repository import Repository
from .context import Ctx
from .i18n import WORDS
from .layout import h
from .tables import table


@dataclass
class Insurance:
    standard: str
    xml: bytes
    episode: Episode


class NoInsuranceData(Exception):
    """The episode was not made from insurance tables (``$bhyt-xml`` answers 422)."""


async def envelope(repo: Repository, eid: str, standard: str | None) -> bytes:
    """The ``$bhyt-xml`` envelope; :class:`NoInsuranceData` for an episode it cannot write."""
    try:
        return await export_bhyt(repo, eid, standard)
    except FhirError as exc:
        if exc.status == 422:
            raise NoInsuranceData(str(exc)) from None
        raise


async def load(repo: Repository, eid: str, standard: str | None) -> Insurance:
    data = await envelope(repo, eid, standard)
    episode = read_envelope(io.BytesIO(data)).read_all()[0]
    if not isinstance(episode, Episode):
        raise NoInsuranceData("; ".join(episode.reasons))
    return Insurance(episode.standard, data, episode)


def standard_of(encounter: dict) -> str | None:
    """The standard the episode was imported in (its bhyt-standard extension)."""
    return next((str(e.get("valueCode")) for e in encounter.get("extension") or [] if e.get("url") == EXT["bhyt-standard"]), None)


def chosen_standard(value: str | None) -> str | None:
    return value if value in STANDARDS else None


def render_tables(ctx: Ctx, insurance: Insurance) -> str:
    """One HTML table per XML table present, in table order, columns as the layout orders them."""
    tables = insurance.episode.tables
    known = layouts(insurance.standard)
    out = []
    for name in sorted(tables, key=table_sort_key):
        rows = tables[name]
        order = [f.name for f in known[name].fields] if name in known else []
        present_fields = {k for r in rows for k, v in r.items() if v not in (None, "")}
        columns = [f for f in order if f in present_fields] + sorted(present_fields - set(order))
        cells = [[h(r.get(c, "")) for c in columns] for r in rows]
        out.append(f'<h3 id="bhyt-{h(name)}">{h(name)} <small>{ctx.t("bhyt_" + name) if ("bhyt_" + name) in WORDS else ""} ({len(rows)})</small></h3>'
                   + table(columns, cells, stack=False))
    return "".join(out)
