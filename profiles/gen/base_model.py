"""Base cardinality and types of an R4 element path, read from the fhir.resources models, so the
generated docs can show an element's full cardinality when a profile changes only one bound."""
from __future__ import annotations

import typing
from functools import lru_cache

import types

from fhir_core.types import FhirBase
from fhir.resources.R4B import get_fhir_model_class


def _strip(ann: typing.Any) -> tuple[bool, typing.Any]:
    """Optional[List[Optional[X]]] -> (True, X); Optional[X] -> (False, X)."""
    def opt(a: typing.Any) -> typing.Any:
        args = [x for x in typing.get_args(a) if x is not type(None)]
        return args[0] if typing.get_origin(a) in (typing.Union, types.UnionType) and len(args) == 1 else a
    ann = opt(ann)
    if typing.get_origin(ann) is list:
        return True, opt(typing.get_args(ann)[0])
    return False, ann


def _type_name(inner: typing.Any) -> tuple[str, type | None]:
    if inner is bool:
        return "boolean", None
    if typing.get_origin(inner) is typing.Annotated:
        for marker in inner.__metadata__:
            name = getattr(marker, "__visit_name__", None)
            if isinstance(name, str):
                return name, None
        return "string", None
    if isinstance(inner, type) and issubclass(inner, FhirBase):
        model = inner.get_model_klass()
        return model.__name__, model
    return "string", None


def _fields(model: type) -> dict[str, tuple[typing.Any, dict]]:
    out = {}
    for name, info in model.model_fields.items():
        if name == "fhir_comments" or name.endswith("__ext"):
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        out[info.alias or name] = (info, extra)
    return out


@lru_cache(maxsize=None)
def base_element(path: str) -> tuple[int, str, tuple[str, ...]]:
    """(min, max, type codes) of an element path such as 'Patient.identifier.system' or 'Observation.value[x]'."""
    parts = path.split(".")
    model: type | None = get_fhir_model_class(parts[0])
    lo, hi, kinds = 0, "*", (parts[0],)
    for seg in parts[1:]:
        assert model is not None, path
        fields = _fields(model)
        if seg.endswith("[x]"):
            choice = seg[:-3]
            found = [(alias, info, extra) for alias, (info, extra) in fields.items() if extra.get("one_of_many") == choice]
            lo = 1 if any(e.get("one_of_many_required") for _, _, e in found) else 0
            hi = "1"
            kinds = tuple(_type_name(_strip(i.annotation)[1])[0] for _, i, _ in found)
            model = None
            continue
        info, extra = fields[seg]
        is_list, inner = _strip(info.annotation)
        lo = 1 if (info.is_required() or extra.get("element_required")) else 0
        hi = "*" if is_list else "1"
        name, model = _type_name(inner)
        kinds = ("BackboneElement",) if model is not None and name.startswith(parts[0]) and name != parts[0] else (name,)
    return lo, hi, kinds
