"""Strict structural validation of FHIR R4 resources, reporting every problem at once.

Every write is checked against the R4 structure by a validator compiled once from the R4
(4.0.1) StructureDefinitions (``data/r4-structure.json``, see :mod:`.structure.compile`): element
tables, types, cardinalities, choice types, content references, primitive formats (the
definitions' regexes plus calendar and range checks, :mod:`.structure.formats`) and, from
``data/required-bindings.json`` and ``data/datatype-required-bindings.json``, required bindings.
One iterative walk (:mod:`.structure.walk`) reports every problem with a FHIRPath-like
``expression`` such as ``Patient.name[0].given[1]`` or ``Observation.value[x]``. No pydantic
model is built: building ``fhir.resources`` models was most of the cost of a write, and they
are lax for a server anyway (they coerce ``"yes"`` to ``true`` and ``"12"`` to ``12``, accept two
``value[x]`` at once, empty objects and arrays, and do not check required bindings).

``fhir.resources`` stays the reference: ``structure/test_differential.py`` checks that both
agree on valid/invalid for every core type, and names each rule where they differ by design.

R4 vs. R4B: the table is R4, ``fhir.resources`` models R4B. Where they differ, R4 wins. For
the core types this server stores (Patient, Encounter, Observation, Condition, Procedure,
MedicationRequest, DocumentReference, Coverage, Organization, Practitioner, Appointment,
ClinicalImpression, AuditEvent, Bundle, OperationOutcome, ...) the element tables are the same;
the differences that reach them are in the shared datatypes:

* ``Extension.value[x]``: R4 allows ``valueMeta``; R4B's ``valueCodeableReference`` and
  ``valueRatioRange`` do not exist in R4 (unknown elements here);
* ``Extension.value[x]`` primitives take a ``_valueString`` companion in R4 JSON (R4B's
  models refuse it);
* ``Narrative.div`` is ``xhtml``, which R4 does not let carry extensions: ``_div`` is refused;
* the same as the first point for ``ElementDefinition`` ``defaultValue[x]``, ``fixed[x]``,
  ``pattern[x]`` and ``example.value[x]``.

Elsewhere: R4 has resource types R4B dropped (EffectEvidenceSynthesis, RiskEvidenceSynthesis,
the MedicinalProduct* and Substance* specification families) and lacks those R4B added
(Citation, EvidenceReport, SubscriptionTopic, SubscriptionStatus, NutritionProduct,
AdministrableProductDefinition, ClinicalUseDefinition, Ingredient, ManufacturedItemDefinition,
MedicinalProductDefinition, PackagedProductDefinition, RegulatedAuthorization,
SubstanceDefinition); Evidence and EvidenceVariable were redesigned in R4B, and R4B added
``subjectCanonical`` to ActivityDefinition and PlanDefinition.

Nothing here raises: any input, however malformed or deep, yields a list of issues.
"""

from __future__ import annotations

from .outcome import Issue
from .structure.messages import json_type, show
from .structure.table import structure
from .structure.walk import Walker

__all__ = ["known_resource_types", "validate_resource"]


def known_resource_types() -> frozenset[str]:
    """All concrete FHIR R4 resource types (from the compiled table; no model imports)."""
    return structure().resource_types


def validate_resource(data: object, *, path: str | None = None, max_depth: int = 64) -> list[Issue]:
    """Every structural, format and required-binding problem of ``data`` (empty = valid).

    ``path`` prefixes expressions (default: the resourceType); ``max_depth`` bounds JSON
    nesting. Never raises.
    """
    depth = max(1, max_depth) if isinstance(max_depth, int) and not isinstance(max_depth, bool) else 64
    walker: Walker | None = None
    try:
        problem = _resource_type_problem(data, path)
        if problem is not None:
            return [problem]
        assert isinstance(data, dict)
        rtype = data["resourceType"]
        meta = structure().resource_meta(rtype)
        assert meta is not None
        walker = Walker(structure(), depth)
        walker.run(data, meta, path or rtype)
        return walker.issues
    except Exception as exc:  # last line of defence: report, never raise
        failure = Issue(
            "exception",
            f"The resource could not be fully validated ({type(exc).__name__}); please report this",
            (path,) if path else (),
        )
        return [*(walker.issues if walker is not None else ()), failure]


def _resource_type_problem(data: object, path: str | None) -> Issue | None:
    """A JSON object whose ``resourceType`` names a known resource type, or the issue why not."""
    where = (path,) if path else ()
    if not isinstance(data, dict):
        return Issue("structure", f"A FHIR resource must be a JSON object; got {json_type(data)}", where)
    rt = data.get("resourceType")
    rt_where = (f"{path}.resourceType",) if path else ("resourceType",)
    if rt is None:
        return Issue(
            "required",
            "Missing 'resourceType': a resource must name its type, e.g. \"resourceType\": \"Patient\"",
            rt_where,
        )
    if not isinstance(rt, str):
        return Issue(
            "structure",
            f"'resourceType' must be a string naming a resource type; got {json_type(rt)}",
            rt_where,
        )
    if structure().resource_meta(rt) is None:
        return Issue(
            "structure",
            f"Unknown resourceType {show(rt)}: not a FHIR R4 resource type (names are case-sensitive, e.g. Patient)",
            rt_where,
        )
    return None
