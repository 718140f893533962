"""The extractor of each search-value kind: a registry, so adding a kind is a line here.

Shared by :mod:`.extract` (every parameter) and :mod:`.composites` (the components of a
composite parameter).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ...storage.index import IndexValue
from .dates import date_values
from .numbers import number_values, quantity_values
from .references import reference_values
from .strings import string_values
from .tokens import token_values
from .uris import uri_values

Extractor = Callable[[str, Any], Iterable[IndexValue]]

EXTRACTORS: dict[str, Extractor] = {
    "token": token_values,
    "string": string_values,
    "date": date_values,
    "reference": reference_values,
    "number": number_values,
    "quantity": quantity_values,
    "uri": uri_values,
}
