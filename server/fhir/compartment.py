"""The Patient compartment (R4's CompartmentDefinition, as data): which resources belong to a patient.

Used by ``$everything`` (what to return) and by access control (what a patient-context
token may see). Both ask the same question, so both use :func:`compartment_term`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache
from importlib import resources

from ..storage.index import All, AnyOf, Cond, IdIn, Term, TypeIs, ValueMatch
from .search.registry import SearchRegistry


@cache
def compartment() -> dict[str, tuple[str, ...]]:
    """Resource type → the parameters linking it to a Patient (types with none left out)."""
    text = resources.files("server.fhir").joinpath("data/compartment-patient.json").read_text("utf-8")
    return {r["code"]: tuple(r["param"]) for r in json.loads(text)["resource"] if r.get("param")}


def compartment_term(registry: SearchRegistry, patient_id: str, types: tuple[str, ...] | frozenset[str]) -> Term:
    """The Patient itself, or a resource of ``types`` whose compartment parameters point at it."""
    return compartments_term(registry, (patient_id,), types)


def compartments_term(registry: SearchRegistry, patient_ids: tuple[str, ...], types: tuple[str, ...] | frozenset[str]) -> Term:
    """The Patients themselves, or a resource of ``types`` in the compartment of any of them."""
    by_param: dict[str, list[str]] = defaultdict(list)
    for rtype, params in compartment().items():
        if rtype in types:
            for p in params:
                if registry.get(rtype, p) is not None:
                    by_param[p].append(rtype)
    refs = tuple(f"Patient/{i}" for i in patient_ids)
    target = (Cond("target", "eq", refs[0]) if len(refs) == 1 else Cond("target", "in", refs),)
    terms: list[Term] = [All((TypeIs(tuple(sorted(ts))), ValueMatch(p, "reference", target))) for p, ts in sorted(by_param.items())]
    if "Patient" in types:
        terms.insert(0, All((TypeIs(("Patient",)), IdIn(patient_ids))))
    return AnyOf(tuple(terms))


def in_compartment(registry: SearchRegistry, type_: str) -> bool:
    """Whether resources of ``type_`` can belong to a patient at all."""
    return type_ == "Patient" or any(registry.get(type_, p) is not None for p in compartment().get(type_, ()))
