"""Valid R4 resources of any type, generated from the compiled table (for property tests).

``Sampler(rnd).resource("Observation")`` builds a resource that the table says is valid:
every required element, a random share of the optional ones (fewer the deeper it goes), one
type per choice, codes from required bindings, and primitive values of every format,
edge values included. ``skip`` leaves out elements by ``(type key, JSON name)``, e.g. the
R4-only elements when the result is meant for an R4B model as well.
"""

from __future__ import annotations

import base64
import calendar
import random
import string
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .table import CODING, Field, Structure, TypeMeta

__all__ = ["Sampler"]

_TEXT = string.ascii_letters + string.digits + " .,-'/()" + "ăâđêôơưàảãáạỳýỷỹỵĐÂĂÊÔƠƯ"
_TOKEN = string.ascii_letters + string.digits + "-"
_ID = string.ascii_letters + string.digits + "-."
#: small, self-contained resource types for contained / Bundle.entry.resource / Parameters
_NESTED = ("Basic", "Patient", "Organization", "Practitioner", "Binary", "Location")
_XHTML = '<div xmlns="http://www.w3.org/1999/xhtml">{}</div>'


class Sampler:
    """One generator per random stream; not thread-safe (it is cheap to make another)."""

    def __init__(
        self,
        structure: Structure,
        rnd: random.Random,
        *,
        skip: Iterable[tuple[str, str]] = (),
        no_companions: Iterable[str] = (),
        max_depth: int = 4,
    ) -> None:
        self.s = structure
        self.rnd = rnd
        self.skip = frozenset(skip)
        self.no_companions = frozenset(no_companions)  # type keys whose primitives get no '_name'
        self.max_depth = max_depth

    # -- resources and complex types

    def resource(self, rtype: str, depth: int = 0) -> dict[str, Any]:
        meta = self.s.meta(rtype)
        return {"resourceType": rtype, **self.fill(rtype, meta, depth)}

    def fill(self, key: str, meta: TypeMeta, depth: int) -> dict[str, Any]:
        """The elements of one object of type ``key``."""
        out: dict[str, Any] = {}
        share = (0.5, 0.3, 0.15, 0.05)[min(depth, 3)] if depth < self.max_depth else 0.0
        chosen: set[str] = set()
        for group, names in meta.choices.items():
            allowed = [n for n in names if (key, n) not in self.skip]
            options = [n for n in allowed if self.available(meta.fields[n], depth)]
            if not options and group in meta.required_choices:
                options = allowed  # required: go deeper rather than leave it out
            if options and (group in meta.required_choices or self.rnd.random() < share):
                chosen.add(self.rnd.choice(options))
        for name, f in meta.fields.items():
            if (key, name) in self.skip or name == "modifierExtension":
                continue
            if f.choice is not None:
                if name not in chosen:
                    continue
            elif not f.required and (self.rnd.random() >= share or not self.available(f, depth)):
                continue
            self.put(out, key, f, depth)
        if key == "Extension" and "extension" not in out and not any(n in out for n in meta.choices.get("value", ())):
            out["valueString"] = self.text()  # ext-1: a value or nested extensions
        if key == "Extension" and "extension" in out:
            for n in meta.choices.get("value", ()):
                out.pop(n, None)
                out.pop("_" + n, None)
        if not out:  # every element needs content: give it the first one that can have some
            for name, f in meta.fields.items():
                if f.prim is not None and f.choice is None and (key, name) not in self.skip and name != "id":
                    self.put(out, key, f, depth)
                    break
            else:
                out["id"] = self.element_id()
        return out

    def available(self, f: Field, depth: int) -> bool:
        """Whether to go into a complex element this deep (primitives are always cheap)."""
        return f.prim is not None or depth + 1 < self.max_depth

    def put(self, out: dict[str, Any], key: str, f: Field, depth: int) -> None:
        count = 1 if not f.is_list else self.rnd.choice((1, 1, 1, 2, 3))
        values = [self.value(f, depth + 1) for _ in range(count)]
        out[f.name] = values if f.is_list else values[0]
        if f.has_companion and key not in self.no_companions and self.rnd.random() < 0.05:
            ext = {"extension": [{"url": "http://example.org/fhir/StructureDefinition/note", "valueString": self.text()}]}
            out["_" + f.name] = [ext] * count if f.is_list else ext

    def value(self, f: Field, depth: int) -> Any:
        if f.prim is not None:
            return self.primitive(f)
        if f.is_resource:
            return self.resource(self.rnd.choice(_NESTED), depth + 1)
        meta = self.s.field_meta(f)
        out = self.fill(f.type_key or "", meta, depth)
        if f.codes:
            self.bind(f, out)
        return out

    def bind(self, f: Field, out: dict[str, Any]) -> None:
        code = self.rnd.choice(sorted(f.codes or ()))
        if f.coded == CODING:
            out["code"] = code
        else:
            out["coding"] = [{"system": "http://example.org/cs", "code": code}]

    # -- primitives

    def primitive(self, f: Field) -> Any:
        if f.codes:
            return self.rnd.choice(sorted(f.codes))
        return self.of_type(f.prim or "string")

    def of_type(self, prim: str) -> Any:
        r = self.rnd
        if prim == "boolean":
            return r.random() < 0.5
        if prim == "integer":
            return r.choice((0, 1, -1, 2**31 - 1, -(2**31), r.randint(-1000, 1000)))
        if prim == "unsignedInt":
            return r.choice((0, 1, 2**31 - 1, r.randint(0, 1000)))
        if prim == "positiveInt":
            return r.choice((1, 2**31 - 1, r.randint(1, 1000)))
        if prim == "decimal":
            return r.choice((0, 1, -5, Decimal("62.50"), Decimal("0.001"), Decimal("-1.5E+3"),
                             Decimal(f"{r.randint(-99999, 99999)}.{r.randint(0, 99):02d}")))
        if prim in ("string", "markdown"):
            return self.text()
        if prim == "code":
            return " ".join(self.token() for _ in range(r.choice((1, 1, 1, 2))))
        if prim == "id":
            return "".join(r.choice(_ID) for _ in range(r.choice((1, 8, 36, 64))))
        if prim in ("uri", "url", "canonical"):
            tail = "|1.0" if prim == "canonical" and r.random() < 0.3 else ""
            return r.choice(("http://example.org/fhir/", "urn:x:", "https://a.vn/")) + self.token() + tail
        if prim == "oid":
            return "urn:oid:" + ".".join(["2", "16"] + [str(r.randint(0, 999)) for _ in range(r.randint(1, 4))])
        if prim == "uuid":
            return f"urn:uuid:{uuid.UUID(int=r.getrandbits(128), version=4)}"
        if prim == "base64Binary":
            return base64.b64encode(bytes(r.getrandbits(8) for _ in range(r.randint(1, 24)))).decode()
        if prim == "date":
            return self.date(r.choice((4, 7, 10)))
        if prim == "dateTime":
            return self.date(r.choice((4, 7, 10))) if r.random() < 0.4 else self.date(10) + "T" + self.time() + self.zone()
        if prim == "instant":
            return self.date(10) + "T" + self.time() + self.zone()
        if prim == "time":
            return self.time()
        if prim == "xhtml":
            return _XHTML.format(self.text())
        return self.text()

    def text(self) -> str:
        r = self.rnd
        body = "".join(r.choice(_TEXT) for _ in range(r.randint(1, 24))).strip()
        return body or "x"

    def token(self) -> str:
        return "".join(self.rnd.choice(_TOKEN) for _ in range(self.rnd.randint(1, 10)))

    def element_id(self) -> str:
        return "e" + self.token()

    def date(self, length: int) -> str:
        r = self.rnd
        year = r.choice((1, 1900, 1970, 2000, 2024, 9999, r.randint(1800, 2100)))
        month = r.randint(1, 12)
        day = r.randint(1, calendar.monthrange(year, month)[1])
        if length == 4:
            return f"{year:04d}"
        if length == 7:
            return f"{year:04d}-{month:02d}"
        return f"{year:04d}-{month:02d}-{day:02d}"

    def time(self) -> str:
        r = self.rnd
        frac = r.choice(("", "", ".5", ".123", ".000001"))
        return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}{frac}"

    def zone(self) -> str:
        return self.rnd.choice(("Z", "+07:00", "-05:00", "+14:00", "-12:00", "+05:30"))
