"""An Attachment's ``size`` and ``hash`` describe its ``data``: they must match it.

R4: ``size`` is the number of bytes of the content, ``hash`` the SHA-1 of it in base64. When the
data is inline, both can be checked; a mismatch means the content or its description is wrong
(truncated, replaced, mis-encoded), which the reference validator reports as an error for the size.
Data that is not valid base64 is left to the structure validation, which reports it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from ...outcome import Issue
from ..instance import finding
from ..typed import Walk, nodes

_PROFILE = "http://hl7.org/fhir/StructureDefinition/Attachment"


def check(resource: dict[str, Any], walk: Walk | None = None) -> list[Issue]:
    issues: list[Issue] = []
    for node in nodes(resource, walk):
        if node.key != "Attachment" or not isinstance(node.value.get("data"), str):
            continue
        content = _decoded(node.value["data"])
        if content is None:
            continue
        size, digest = node.value.get("size"), node.value.get("hash")
        if isinstance(size, int) and not isinstance(size, bool) and size != len(content):
            issues.append(finding("attachment", "error", "invalid", node.path,
                                  f"the stated size {size} does not match the size of the data, {len(content)} bytes", _PROFILE))
        if isinstance(digest, str) and _decoded(digest) is not None and _decoded(digest) != hashlib.sha1(content).digest():
            issues.append(finding("attachment", "error", "invalid", node.path,
                                  f"the stated hash {digest} is not the SHA-1 of the data ({base64.b64encode(hashlib.sha1(content).digest()).decode()})",
                                  _PROFILE))
    return issues


def _decoded(text: str) -> bytes | None:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
