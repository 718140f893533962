"""Differential property test: the compiled R4 validator against fhir.resources (R4B models).

``validate_resource`` no longer builds pydantic models, but ``fhir.resources`` stays the
reference: on valid resources generated from the table for every resource type, on mutated
ones (wrong JSON type, unknown element, bad date, two value[x], empty array/object, missing
required, out-of-range integer, whitespace in a code, ...) and on HL7 R4 examples, both must
say the same thing (valid or not). Where they differ by design, a named :class:`Rule` of
``RULES`` must explain every issue (or every pydantic error) of the difference, and each rule
is itself shown to occur (``test_each_named_exception_occurs``).

Set ``LIENTHONG_R4_EXAMPLES`` to a folder of R4 example JSON files (the ``package/`` folder of
``hl7.fhir.r4.examples``) to run the examples test on all of them; by default it runs on the
curated ones in ``testdata/``.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from server import jsonio
from server.fhir.outcome import Issue
from server.fhir.resource_types import RESOURCE_TYPES
from server.fhir.validation import known_resource_types, validate_resource

from .samples import Sampler
from .table import Field, TypeMeta, structure

TESTDATA = Path(__file__).with_name("testdata")
S = structure()

#: the types the server stores, plus the ones every FHIR exchange carries
CORE = tuple(sorted(RESOURCE_TYPES | {"Bundle", "OperationOutcome", "Parameters", "Questionnaire", "QuestionnaireResponse"}))

#: R4 elements R4B does not have (rule r4-only-element): the generator leaves them out
R4_ONLY_ELEMENTS = frozenset({
    ("Extension", "valueMeta"),
    ("ElementDefinition", "defaultValueMeta"),
    ("ElementDefinition", "fixedMeta"),
    ("ElementDefinition", "patternMeta"),
    ("ElementDefinition.example", "valueMeta"),
})
#: resource types whose structure R4B redesigned (rule r4b-redesigned-resource)
REDESIGNED = frozenset({"Evidence", "EvidenceVariable"})


# --------------------------------------------------------------------------- the two verdicts


@cache
def model(rtype: str) -> Any:
    """The R4B model class of a resource type, or None where R4B has no such type."""
    try:
        return get_fhir_model_class(rtype)
    except (KeyError, ValueError):
        return None


def r4b_errors(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """fhir.resources' errors for ``resource`` (empty: it accepts it)."""
    cls = model(resource["resourceType"])
    if cls is None:
        return [{"type": "no_model", "loc": (), "msg": f"{resource['resourceType']} is not an R4B resource type"}]
    try:
        cls.model_validate(resource)
        return []
    except ValidationError as exc:
        return list(exc.errors(include_url=False))
    except Exception as exc:  # fhir.resources raises plain errors on some malformed input
        return [{"type": "exception", "loc": (), "msg": repr(exc)}]


# --------------------------------------------------------------------------- named differences


@dataclass(frozen=True)
class Rule:
    """A difference by design. ``stricter``: we refuse what R4B accepts (else the reverse).
    ``explains`` takes (resource type, one of our issues) for stricter rules, (resource type,
    one pydantic error) for the others; ``example`` shows the rule in action."""

    name: str
    stricter: bool
    why: str
    explains: Callable[[str, Any], bool]
    example: dict[str, Any]


def _diag(*patterns: str) -> Callable[[str, Issue], bool]:
    compiled = [re.compile(p) for p in patterns]
    return lambda _rt, issue: any(p.search(issue.diagnostics) for p in compiled)


def _error(kind: str, last: Callable[[Any], bool] = lambda _: True) -> Callable[[str, dict], bool]:
    return lambda _rt, err: err.get("type") == kind and last(err["loc"][-1] if err.get("loc") else None)


def _patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", **elements}


def _ext(**value: Any) -> dict[str, Any]:
    return {"url": "http://example.org/fhir/StructureDefinition/x", **value}


RULES: tuple[Rule, ...] = (
    Rule("required-binding", True, "required bindings are checked; the models carry no value sets",
         lambda _rt, i: i.code == "code-invalid", _patient(gender="nam")),
    Rule("json-boolean", True, "a boolean is JSON true/false; pydantic coerces 'yes', 'true', 1",
         _diag(r"is a FHIR boolean, which must be written as"), _patient(active="yes")),
    Rule("json-number", True, "integers and decimals are JSON numbers (integers without a fraction); pydantic "
         "coerces '12', 12.0 and '1.5'", _diag(r"is a FHIR (integer|unsignedInt|positiveInt|decimal), which must be"),
         _patient(multipleBirthInteger="12")),
    Rule("json-string", True, "string-based primitives are JSON strings; pydantic reads numbers as dates "
         "(Unix time) and the like", _diag(r"is a FHIR (?!boolean|integer|unsignedInt|positiveInt|decimal)\w+, "
                                           r"which must be written as .*; got (an integer|a number|a boolean) "),
         _patient(deceasedDateTime=5)),
    Rule("null", True, "null is not a FHIR value (only a placeholder in primitive arrays lined up with '_name')",
         _diag(r"is null"), _patient(gender=None)),
    Rule("empty-array", True, "FHIR JSON has no empty arrays", _diag(r"is an empty array"), _patient(name=[])),
    Rule("empty-object", True, "FHIR JSON has no empty objects (ele-1)", _diag(r"is an empty object"),
         _patient(maritalStatus={})),
    Rule("whitespace-only-string", True, "a string of spaces carries no value; pydantic's unanchored string "
         "regex accepts it", _diag(r"is an empty or whitespace-only string"), _patient(name=[{"family": "  "}])),
    Rule("id-length", True, "an id has 1-64 characters (R4 regex); fhir.resources allows longer ones",
         _diag(r'\.\.\." is not a valid id:'), _patient(id="x" * 65)),
    Rule("uri-whitespace", True, "uri/url/canonical have no whitespace (R4 regex \\S*); pydantic's unanchored "
         "regex never fails", _diag(r"\(it contains whitespace\)"), _patient(implicitRules="http://a b")),
    Rule("base64", True, "base64Binary must decode; fhir.resources accepts any string",
         _diag(r"is not a valid base64Binary"), _patient(photo=[{"data": "@@@@"}])),
    Rule("ext-1", True, "an extension has a value[x] or nested extensions, not both, not neither (ext-1)",
         lambda _rt, i: i.code == "invariant" and "(ext-1)" in i.diagnostics, _patient(extension=[_ext()])),
    Rule("companion-shape", True, "a '_name' companion carries extensions, lines up with its array, and "
         "does not stand alone without them",
         _diag(r"stands without a value", r"the two arrays must have the same length", r"must be a non-empty array "
               r"lining up", r"has no value there", r"must be an object with 'id' and/or 'extension'"),
         _patient(_birthDate={"id": "b"})),
    Rule("xhtml-no-extensions", True, "R4's xhtml type cannot carry extensions ('xhtml.extension' is 0..0), "
         "so there is no '_div'", _diag(r"Unknown element '_div'"),
         _patient(text={"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>',
                        "_div": {"extension": [_ext(valueString="v")]}})),
    Rule("nested-resource-type", True, "a contained (or entry, or parameter) resource must name its "
         "resourceType; fhir.resources reads one without it as a bare Resource",
         _diag(r"a resource must name its type"), _patient(contained=[{"id": "x"}])),
    Rule("uuid-any-version", False, "a FHIR uuid is any RFC 4122 UUID; fhir.resources insists on version 4",
         _error("uuid_version"), _patient(extension=[_ext(valueUuid="urn:uuid:c757873d-ec9a-1326-a141-556f43239520")])),
    Rule("r4-only-element", False, "R4 elements R4B dropped (Extension.valueMeta, ElementDefinition.*Meta)",
         _error("extra_forbidden", lambda last: isinstance(last, str) and last.endswith("Meta")),
         _patient(extension=[_ext(valueMeta={"versionId": "1"})])),
    Rule("extension-value-companion", False, "R4 JSON lets a primitive Extension.value[x] carry a '_valueString' "
         "companion; the R4B models refuse it",
         _error("extra_forbidden", lambda last: isinstance(last, str) and last.startswith("_value")),
         _patient(extension=[_ext(valueString="v", _valueString={"id": "v1"})])),
    Rule("r4-only-resource-type", False, "R4 resource types R4B dropped (EffectEvidenceSynthesis, "
         "MedicinalProduct*, Substance* specifications, ...)", _error("no_model"),
         {"resourceType": "EffectEvidenceSynthesis", "status": "draft", "population": {"reference": "Group/1"},
          "exposure": {"reference": "EvidenceVariable/1"}, "exposureAlternative": {"reference": "EvidenceVariable/2"},
          "outcome": {"reference": "EvidenceVariable/3"}}),
    Rule("r4b-redesigned-resource", False, "Evidence and EvidenceVariable were redesigned in R4B; an R4 one "
         "is not an R4B one", lambda rt, _err: rt in REDESIGNED,
         {"resourceType": "EvidenceVariable", "status": "active", "approvalDate": "2020-01-01", "characteristic": [
             {"definitionReference": {"reference": "Group/1"}}]}),
)


def explain(resource: dict[str, Any], ours: list[Issue], theirs: list[dict[str, Any]]) -> set[str]:
    """The rules that account for a disagreement; fails the test if something is unexplained."""
    rt = resource.get("resourceType", "")
    if ours and not theirs:
        used: set[str] = set()
        for issue in ours:
            names = {r.name for r in RULES if r.stricter and r.explains(rt, issue)}
            assert names, f"we refuse and R4B accepts, with no named rule for: {issue}\n{json.dumps(resource, default=str)[:2000]}"
            used |= names
        return used
    if theirs and not ours:
        used = set()
        for err in theirs:
            names = {r.name for r in RULES if not r.stricter and r.explains(rt, err)}
            assert names, f"R4B refuses and we accept, with no named rule for: {err}\n{json.dumps(resource, default=str)[:2000]}"
            used |= names
        return used
    return set()


# --------------------------------------------------------------------------- valid resources, every type


#: hypothesis draws a seed; the sampler draws from a plain Random (thousands of draws per
#: resource through hypothesis would cost seconds per example)
SEEDS = st.integers(min_value=0, max_value=2**64 - 1)


def sampler(rnd: random.Random) -> Sampler:
    return Sampler(S, rnd, skip=R4_ONLY_ELEMENTS, no_companions={"Extension"})


@pytest.mark.parametrize("rtype", sorted(S.resource_types))
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=SEEDS)
def test_generated_resources_are_valid_for_both(rtype: str, seed: int) -> None:
    resource = sampler(random.Random(seed)).resource(rtype)
    ours = validate_resource(resource)
    assert ours == [], (ours, resource)
    type_rules = [r for r in RULES if r.name in ("r4-only-resource-type", "r4b-redesigned-resource")]
    for err in r4b_errors(resource):  # only a type R4B lacks or redesigned may explain a refusal here
        assert any(r.explains(rtype, err) for r in type_rules), (err, resource)


# --------------------------------------------------------------------------- mutations


@dataclass
class Site:
    """One element of a resource: ``parent[key]`` holds a value of ``field`` in an object of ``owner``."""

    parent: Any
    key: Any
    field: Field
    owner: TypeMeta
    obj: dict[str, Any]  # the object that holds the element (parent, or the dict holding the list)


def sites(resource: dict[str, Any]) -> Iterator[tuple[dict[str, Any], TypeMeta, list[Site]]]:
    """Every object of ``resource`` with its type and the elements it holds (breadth-first)."""
    queue: list[tuple[dict[str, Any], TypeMeta]] = [(resource, S.meta(resource["resourceType"]))]
    while queue:
        obj, meta = queue.pop(0)
        here: list[Site] = []
        for key, value in obj.items():
            f = meta.fields.get(key)
            if f is None:
                continue
            items = list(enumerate(value)) if f.is_list and isinstance(value, list) else [(None, value)]
            for i, item in items:
                parent, k = (value, i) if i is not None else (obj, key)
                here.append(Site(parent, k, f, meta, obj))
                if isinstance(item, dict):
                    if f.is_resource:
                        queue.append((item, S.meta(item["resourceType"])))
                    elif f.prim is None:
                        queue.append((item, S.field_meta(f)))
        yield obj, meta, here


Mutation = Callable[[dict[str, Any], random.Random], "str | None"]
MUTATIONS: dict[str, Mutation] = {}


def mutation(fn: Mutation) -> Mutation:
    MUTATIONS[fn.__name__.replace("_", "-")] = fn
    return fn


def _all_sites(resource: dict[str, Any], keep: Callable[[Site], bool]) -> list[Site]:
    return [s for _, _, here in sites(resource) for s in here if keep(s)]


def _pick(rnd: random.Random, options: list[Any]) -> Any:
    return rnd.choice(options) if options else None


@mutation
def unknown_element(resource: dict[str, Any], rnd: random.Random) -> str | None:
    obj = rnd.choice([o for o, _, _ in sites(resource)])
    obj[rnd.choice(("zzUnknown", "Status", "value", "_foo"))] = "x"
    return "added an unknown element"


@mutation
def wrong_json_type(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = _pick(rnd, _all_sites(resource, lambda s: s.field.prim is not None))
    if site is None:
        return None
    by_kind = {1: ["true", "yes", 1, 0, "false"], 2: ["12", Decimal("12.0"), True, "x", Decimal("1.5")],
               3: ["1.5", True, "x"], 4: [5, True, Decimal("1.5"), {"value": "x"}, ["x"]]}
    site.parent[site.key] = rnd.choice(by_kind[site.field.jkind])
    return f"wrong JSON type for {site.field.prim}"


@mutation
def bad_date(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = _pick(rnd, _all_sites(resource, lambda s: s.field.prim in ("date", "dateTime", "instant", "time")))
    if site is None:
        return None
    site.parent[site.key] = rnd.choice(("2020-13-01", "2019-02-29", "2020-01-01T10:00:00", "01/02/2020", "2020-1-1",
                                        "2020-01-01T25:00:00Z", "2021-04-31", "24:00:00", "10:00", "2020-01-01T10:00Z"))
    return "bad date/time"


@mutation
def two_choices(resource: dict[str, Any], rnd: random.Random) -> str | None:
    options = [(o, m, g, k) for o, m, _ in sites(resource) for g, names in m.choices.items()
               for k in names if k in o and len(names) > 1]
    if not options:
        return None
    obj, meta, group, present = rnd.choice(options)
    other = rnd.choice([n for n in meta.choices[group] if n != present and (meta.type_name, n) not in R4_ONLY_ELEMENTS])
    obj[other] = sampler(rnd).value(meta.fields[other], 3)
    return "two types of one choice"


@mutation
def empty_array(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = _pick(rnd, _all_sites(resource, lambda s: s.field.is_list and isinstance(s.parent, list)))
    if site is None:
        return None
    site.obj[site.field.name] = []
    site.obj.pop("_" + site.field.name, None)
    return "empty array"


@mutation
def empty_object(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = _pick(rnd, _all_sites(resource, lambda s: s.field.prim is None and not s.field.is_resource))
    if site is None:
        return None
    site.parent[site.key] = {}
    return "empty object"


@mutation
def missing_required(resource: dict[str, Any], rnd: random.Random) -> str | None:
    options = [(o, f) for o, m, _ in sites(resource) for f in m.required if f.name in o]
    options += [(o, m.choices[g]) for o, m, _ in sites(resource) for g in m.required_choices]
    if not options:
        return None
    obj, what = rnd.choice(options)
    for name in (what.name,) if isinstance(what, Field) else what:
        obj.pop(name, None)
        obj.pop("_" + name, None)
    if not obj:
        obj["id"] = "left"
    return "required element removed"


@mutation
def out_of_range(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = _pick(rnd, _all_sites(resource, lambda s: s.field.prim in ("integer", "unsignedInt", "positiveInt")))
    if site is None:
        return None
    site.parent[site.key] = {"integer": rnd.choice((2**31, -(2**31) - 1)), "unsignedInt": rnd.choice((-1, 2**31)),
                             "positiveInt": rnd.choice((0, -3, 2**31))}[site.field.prim]
    return "integer out of range"


@mutation
def code_whitespace(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = _pick(rnd, _all_sites(resource, lambda s: s.field.prim == "code"))
    if site is None:
        return None
    site.parent[site.key] = rnd.choice((" a", "a ", "a  b", "a\tb", "a\n b"))
    return "whitespace in a code"


@mutation
def not_in_binding(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = _pick(rnd, _all_sites(resource, lambda s: s.field.prim == "code" and s.field.codes is not None))
    if site is None:
        return None
    site.parent[site.key] = "not-a-code"
    return "code outside its required binding"


@mutation
def null_value(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = rnd.choice(_all_sites(resource, lambda s: True))
    site.parent[site.key] = None
    return "null"


@mutation
def empty_string(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = _pick(rnd, _all_sites(resource, lambda s: s.field.jkind == 4 and s.field.codes is None))
    if site is None:
        return None
    site.parent[site.key] = rnd.choice(("", " ", "\n"))
    return "empty string"


@mutation
def list_for_single(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = _pick(rnd, _all_sites(resource, lambda s: not s.field.is_list))
    if site is None:
        return None
    site.parent[site.key] = [site.parent[site.key]]
    return "array for a single value"


@mutation
def single_for_list(resource: dict[str, Any], rnd: random.Random) -> str | None:
    site = _pick(rnd, _all_sites(resource, lambda s: s.field.is_list and isinstance(s.parent, list)))
    if site is None:
        return None
    site.obj[site.field.name] = site.parent[0]
    site.obj.pop("_" + site.field.name, None)
    return "single value for an array"


@mutation
def bad_format(resource: dict[str, Any], rnd: random.Random) -> str | None:
    bad = {"id": ("a b", "x" * 65, "a_b"), "uri": ("http://a b",), "url": ("http://a b",), "canonical": ("a b",),
           "base64Binary": ("@@@@", "abc"), "oid": ("1.2.3", "urn:oid:1.02"), "uuid": ("urn:uuid:XYZ",),
           "decimal": (Decimal("NaN"),)}
    site = _pick(rnd, _all_sites(resource, lambda s: s.field.prim in bad))
    if site is None:
        return None
    site.parent[site.key] = rnd.choice(bad[site.field.prim or ""])
    return f"bad {site.field.prim}"


@mutation
def broken_extension(resource: dict[str, Any], rnd: random.Random) -> str | None:
    exts = [s for s in _all_sites(resource, lambda s: s.field.type_key == "Extension") if isinstance(s.parent[s.key], dict)]
    if not exts:
        resource.setdefault("extension", []).append(_ext())
        return "extension without value"
    site = rnd.choice(exts)
    value = site.parent[site.key]
    if "extension" in value:
        value["valueString"] = "both"
    else:
        for k in [k for k in value if k.startswith(("value", "_value"))]:
            del value[k]
    return "ext-1"


@mutation
def bad_companion(resource: dict[str, Any], rnd: random.Random) -> str | None:
    options = [(o, f) for o, m, _ in sites(resource) for f in m.fields.values() if f.has_companion and f.name in o]
    if not options:
        return None
    obj, f = rnd.choice(options)
    obj["_" + f.name] = rnd.choice(({}, {"id": "c"}, [{"id": "c"}] * 5, "x")) if f.is_list else rnd.choice(({}, [], "x"))
    return "bad '_' companion"


@mutation
def bad_nested_resource(resource: dict[str, Any], rnd: random.Random) -> str | None:
    resource["contained"] = [rnd.choice(({"resourceType": "Foo"}, {"id": "x"}, {"resourceType": "Patient", "active": "x"}))]
    return "bad contained resource"


def mutate(resource: dict[str, Any], kind: str, rnd: random.Random) -> str | None:
    return MUTATIONS[kind](resource, rnd)


@settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
@given(rtype=st.sampled_from(CORE), kind=st.sampled_from(sorted(MUTATIONS)), seed=SEEDS)
def test_mutated_resources_agree_or_a_rule_says_why(rtype: str, kind: str, seed: int) -> None:
    rnd = random.Random(seed)
    resource = sampler(rnd).resource(rtype)
    what = mutate(resource, kind, rnd)
    if what is None:
        return
    ours = validate_resource(resource)
    assert not [i for i in ours if i.code == "exception"], ours
    theirs = r4b_errors(resource)
    explain(resource, ours, theirs)


# --------------------------------------------------------------------------- HL7 examples


def example_files() -> list[Path]:
    folder = os.environ.get("LIENTHONG_R4_EXAMPLES")
    files = sorted(Path(folder).glob("*.json")) if folder else []
    return files or sorted(TESTDATA.glob("*.json"))


def test_hl7_examples_agree_or_a_rule_says_why() -> None:
    checked = 0
    for path in example_files():
        resource = jsonio.loads(path.read_bytes())
        if not isinstance(resource, dict) or "resourceType" not in resource:
            continue
        ours = validate_resource(resource)
        theirs = r4b_errors(resource)
        if bool(ours) != bool(theirs):
            explain(resource, ours, theirs)
        checked += 1
    assert checked >= 20


def test_curated_examples_cover_the_core_types() -> None:
    """The committed examples are valid R4 (bar the one meant to be invalid) and span the core types."""
    seen = set()
    for path in sorted(TESTDATA.glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        seen.add(resource["resourceType"])
        expected_invalid = path.name.startswith("invalid-")
        assert bool(validate_resource(resource)) == expected_invalid, path.name
    assert {"Patient", "Encounter", "Observation", "Condition", "Bundle", "Questionnaire"} <= seen


# --------------------------------------------------------------------------- the rules themselves


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_each_named_exception_occurs(rule: Rule) -> None:
    ours = validate_resource(copy.deepcopy(rule.example))
    theirs = r4b_errors(copy.deepcopy(rule.example))
    if rule.stricter:
        assert ours and not theirs, (ours, theirs)
    else:
        assert theirs and not ours, (ours, theirs)
    assert rule.name in explain(rule.example, ours, theirs)


def test_r4_only_elements_are_r4_only() -> None:
    """Each element the generator leaves out is valid R4 and unknown to R4B (rule r4-only-element)."""
    for owner, name in sorted(R4_ONLY_ELEMENTS):
        meta = S.meta(owner)
        assert name in meta.fields, (owner, name)


def test_known_resource_types_are_r4() -> None:
    """The R4 types R4B lacks are the ones R4B dropped (rule r4-only-resource-type)."""
    known = known_resource_types()
    r4_only = {t for t in known if model(t) is None}
    dropped = ("MedicinalProduct", "Substance", "EffectEvidenceSynthesis", "RiskEvidenceSynthesis")
    assert r4_only and all(t.startswith(dropped) for t in r4_only), r4_only
    assert len(known - r4_only) >= 125
