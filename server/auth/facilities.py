"""Which facility a resource belongs to, read from the identifiers the mappings give it.

A vendor client registered for facility codes (MACSKCB) may write only those facilities'
episodes. The mappings mark what they make with the facility: episode parts
(``<facility>/<MA_LK>/<part>``), episode ids, and facility-scoped patient and episode
numbers (``…/ma-bn/<facility>``). The marks are data: one row per identifier system.
"""

from __future__ import annotations

from typing import Any, Literal

from profiles import SID

#: identifier system → where its facility code is: the value's first segment, or the system's tail
MARKS: dict[str, Literal["value-prefix", "system-suffix"]] = {
    SID["t54-part"]: "value-prefix",
    SID["bhyt-part"]: "value-prefix",
    SID["bhyt-episode"]: "value-prefix",
    SID["ma-bn"] + "/": "system-suffix",
    SID["ma-lk"] + "/": "system-suffix",
}


def facilities_of(resource: dict[str, Any]) -> set[str]:
    """The facility codes a resource's identifiers name (empty: it is not a facility's own)."""
    found: set[str] = set()
    idents = resource.get("identifier")
    if isinstance(idents, dict):
        idents = [idents]
    for ident in idents if isinstance(idents, list) else ():
        if not isinstance(ident, dict):
            continue
        system, value = ident.get("system"), ident.get("value")
        if not isinstance(system, str):
            continue
        if MARKS.get(system) == "value-prefix" and isinstance(value, str) and "/" in value:
            found.add(value.split("/", 1)[0])
            continue
        for prefix, how in MARKS.items():
            if how == "system-suffix" and system.startswith(prefix) and len(system) > len(prefix):
                found.add(system[len(prefix):])
    return found
