"""One episode, from the reader to the store: check its values, map it, store it atomically.

Shared by ``lienthong import`` and ``POST /fhir/$import-bhyt`` so that both fail an episode for
the same reasons and at the same stage (see :mod:`server.imports.report` for the stages).
"""

from __future__ import annotations

from typing import Any, Mapping

from mappings.bhyt_xml.envelope import BrokenEpisode, Episode

from ..fhir.bundles import CheckedEntry

from .targets import Refused, Stored, Target


class EpisodeFailed(Exception):
    def __init__(self, stage: str, reasons: list[str], status: int | None = None) -> None:
        super().__init__("; ".join(reasons))
        self.stage = stage
        self.reasons = reasons
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuilt from its own fields (it travels back from the worker processes)."""
        return (EpisodeFailed, (self.stage, self.reasons, self.status))


def insurance_bundle(result: Episode | BrokenEpisode, *, strict: bool = False, warnings: list[str] | None = None) -> dict[str, Any]:
    """The transaction Bundle of a readable, acceptable episode; raises EpisodeFailed otherwise.

    The import policy (``values.json``, ``accepted``) lets through, as warnings appended to
    ``warnings``, the departures real files carry; ``strict`` refuses them too."""
    from mappings.bhyt_xml.fhir import to_fhir
    from mappings.bhyt_xml.values import review_episode

    if isinstance(result, BrokenEpisode):
        raise EpisodeFailed("read", list(result.reasons) or ["the HOSO cannot be read"])
    review = review_episode(result, strict=strict)
    if review.errors:
        raise EpisodeFailed("check", review.errors)
    if warnings is not None:
        warnings.extend(review.warnings)
    try:
        return to_fhir(result)
    except Exception as exc:  # a mapping defect must fail this episode only, with a reason
        raise EpisodeFailed("map", [f"cannot be mapped to FHIR: {type(exc).__name__}: {exc}"]) from None


def transfer_bundle(record: Any) -> dict[str, Any]:
    """The transaction Bundle of a valid 54-field transfer record; raises EpisodeFailed otherwise."""
    from mappings.transfer54.fhir import to_fhir
    from mappings.transfer54.validate import validate

    problems = validate(record)
    if problems:
        raise EpisodeFailed("check", [f"{p.field}: {p.reason}" if p.field else p.reason for p in problems])
    try:
        return to_fhir(record)
    except Exception as exc:
        raise EpisodeFailed("map", [f"cannot be mapped to FHIR: {type(exc).__name__}: {exc}"]) from None


async def store_bundle(target: Target, bundle: dict[str, Any], checked: Mapping[int, CheckedEntry] | None = None) -> Stored:
    """Store one episode's Bundle as one transaction; raises EpisodeFailed when refused."""
    try:
        return await target.store(bundle, checked)
    except Refused as exc:
        raise EpisodeFailed("store", exc.reasons, exc.status or None) from None
    except Exception as exc:  # a store fault fails this episode (its transaction rolled back), not the run
        raise EpisodeFailed("store", [f"internal error while storing: {type(exc).__name__}: {exc}"], 500) from None
