"""Reading a workspace form: URL-encoded, or multipart when it carries a file.

python-multipart (which Starlette's ``request.form()`` needs for multipart bodies) is not a
dependency of this server, so a multipart body is parsed with the standard library's MIME
parser: a browser's own form is a plain ``multipart/form-data`` message, and this avoids a new
dependency for one upload field. Either way the body is bounded by ``max_request_bytes``
(413 beyond, before it is all read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from urllib.parse import parse_qsl

from fastapi import Request

from ..fhir.outcome import FhirError
from ..http.requests import read_body

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
#: a workspace form has a handful of fields; more is not a browser filling in our form
MAX_FIELDS = 16


@dataclass
class Form:
    """Text fields by name, and uploaded files (their bytes) by name."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)


def _bad(text: str) -> FhirError:
    return FhirError.of(400, "invalid", text)


async def read_form(request: Request) -> Form:
    """The form of ``request``; a body that is not one is a 400, a body too large a 413."""
    header = request.headers.get("content-type", "")
    ctype = header.split(";")[0].strip().lower()
    if ctype not in (URLENCODED, MULTIPART):
        raise _bad(f"The form must be sent as {URLENCODED} or {MULTIPART}.")
    body = await read_body(request, request.app.state.settings)
    return _multipart(header, body) if ctype == MULTIPART else _urlencoded(body)


def _urlencoded(body: bytes) -> Form:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise _bad("The form is not UTF-8 name=value pairs.") from None
    form = Form()
    for name, value in pairs:
        form.fields.setdefault(name, value)  # the first of a repeated name, as for a multipart form
    return form


def _multipart(header: str, body: bytes) -> Form:
    try:
        head = f"Content-Type: {header}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    except UnicodeEncodeError:
        raise _bad("The form's Content-Type header is not readable.") from None
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise _bad("The multipart form cannot be read (no boundary, or a broken part).")
    form = Form()
    for n, part in enumerate(message.iter_parts()):
        if n >= MAX_FIELDS:
            raise _bad("The form has too many parts.")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in form.fields or name in form.files:
            continue
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            form.files[name] = data
            continue
        try:
            form.fields[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad(f"The form field {name!r} is not UTF-8 text.") from None
    return form
