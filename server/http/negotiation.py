"""Content negotiation: which format a client asked for and which body type it sent.

Every route builds FHIR JSON; :class:`FormatMiddleware` turns a FHIR JSON response into FHIR
XML for a client that asked for XML (``_format`` wins over ``Accept``, as the spec says), and
answers ``HEAD`` as the ``GET`` it stands for, without the body. Request bodies are read as
JSON or XML by their ``Content-Type`` (:func:`parse_fhir_body`). Other formats: 406 (asked
for) and 415 (sent).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response

from .. import jsonio
from ..fhir.fhirxml import from_xml, to_xml
from ..fhir.intake import parse_json
from ..fhir.outcome import FhirError

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
_JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir", "text/json"}
_XML_FORMATS = {"xml", "text/xml", "application/xml", "application/fhir+xml", "application/xml+fhir"}
_ANY = {"*/*", "application/*"}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _media_types(header: str) -> list[str]:
    return [part.split(";")[0].strip().lower() for part in header.split(",") if part.strip()]


def response_format(fmt: str | None, accept: str | None) -> str:
    """``"json"`` or ``"xml"`` for these ``_format`` and ``Accept`` values; 406 for anything else."""
    if fmt is not None:
        wanted = fmt.split(";")[0].strip().lower()
        if wanted in _JSON_FORMATS:
            return "json"
        if wanted in _XML_FORMATS:
            return "xml"
        raise FhirError.of(406, "not-supported", f"_format '{fmt}' is not supported; use json or xml")
    if not accept:
        return "json"
    for media in _media_types(accept):  # the client's order
        if media in _JSON_FORMATS or media in _ANY:
            return "json"
        if media in _XML_FORMATS:
            return "xml"
    raise FhirError.of(406, "not-supported", f"Accept '{accept}' is not supported; use application/fhir+json or application/fhir+xml")


def check_accept(request: Request) -> str:
    """The format the client asked for (406 unless JSON or XML)."""
    return response_format(request.query_params.get("_format"), request.headers.get("accept"))


def body_format(request: Request) -> str:
    """``"json"`` or ``"xml"`` by ``Content-Type``; 415 for other types and for none (a body
    without a declared type is what a cross-site HTML form sends: it never writes)."""
    ctype = request.headers.get("content-type")
    if not ctype:
        raise missing_content_type("application/fhir+json or application/fhir+xml")
    media = (_media_types(ctype) or [""])[0]
    if media in _JSON_FORMATS:
        return "json"
    if media in _XML_FORMATS:
        return "xml"
    raise FhirError.of(415, "not-supported", f"Content-Type '{ctype}' is not supported; send application/fhir+json or application/fhir+xml")


def missing_content_type(expected: str) -> FhirError:
    return FhirError.of(415, "not-supported", f"The request has a body but no Content-Type; send it as {expected}", "Content-Type")


def check_content_type(request: Request) -> None:
    """Raise 415 unless the body is declared as FHIR JSON or XML."""
    body_format(request)


def parse_fhir_body(request: Request, raw: bytes) -> Any:
    """The body as FHIR JSON (a dict for a resource), read as its ``Content-Type`` says."""
    return from_xml(raw) if body_format(request) == "xml" else parse_json(raw)


def fhir_response(body: Any, status: int = 200, headers: dict[str, str] | None = None, *, pretty: bool = False) -> Response:
    content = b"" if body is None else jsonio.dumps(body, pretty=pretty)
    media = None if body is None else f"{FHIR_JSON}; charset=utf-8"
    return Response(content=content, status_code=status, headers=headers, media_type=media)


def wants_pretty(request: Request) -> bool:
    return request.query_params.get("_pretty") == "true"


class FormatMiddleware:
    """FHIR XML for clients that ask for it, ``HEAD`` for every ``GET`` under ``/fhir``, and gzip
    for clients that send ``Accept-Encoding: gzip`` (Starlette's ``GZipMiddleware``, outside the
    XML conversion). A request that asks for none of these goes straight to the app: two byte
    searches are all it costs.

    Only responses that are FHIR JSON are converted (an insurance XML envelope or a web page
    passes as it is). An asked-for format this server does not speak is left to the route,
    which answers 406."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        from starlette.middleware.gzip import GZipMiddleware

        self.app = app
        self.gzip = GZipMiddleware(self._formats, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoding = _header(scope, b"accept-encoding")
        await (self.gzip if encoding is not None and b"gzip" in encoding else self._formats)(scope, receive, send)

    async def _formats(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = scope["method"] == "HEAD"
        if not scope["path"].startswith("/fhir") or not (head or b"_format" in scope.get("query_string", b"") or b"xml" in (_header(scope, b"accept") or b"")):
            await self.app(scope, receive, send)
            return
        if head:
            scope = {**scope, "method": "GET"}
        xml = _asks_for_xml(scope)
        if not head and not xml:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _Converting(send, xml=xml, head=head, pretty=_query(scope).get("_pretty") == "true").send)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))


def _asks_for_xml(scope: Scope) -> bool:
    accept = _header(scope, b"accept")
    try:
        return response_format(_query(scope).get("_format"), accept.decode("latin-1") if accept else None) == "xml"
    except FhirError:
        return False


class _Converting:
    """A ``send`` that holds a FHIR JSON response until its end, then sends it as XML (and/or
    without its body, for HEAD)."""

    def __init__(self, send: Send, *, xml: bool, head: bool, pretty: bool) -> None:
        self.inner = send
        self.xml, self.head, self.pretty = xml, head, pretty
        self.start: dict[str, Any] | None = None
        self.chunks: list[bytes] = []

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            media = next((v for k, v in message.get("headers", ()) if k == b"content-type"), b"")
            convert = self.xml and media.startswith(FHIR_JSON.encode())
            if not convert and not self.head:
                self.xml = False
                await self.inner(message)
                return
            self.xml = convert
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.inner(message)
            return
        self.chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(self.chunks)
        headers = [(k, v) for k, v in self.start.get("headers", ()) if k not in (b"content-length", b"content-type")]
        media = next((v for k, v in self.start.get("headers", ()) if k == b"content-type"), None)
        if self.xml and body:
            try:
                body, media = to_xml(jsonio.loads(body), pretty=self.pretty), f"{FHIR_XML}; charset=utf-8".encode()
            except ValueError:  # not an R4 resource (cannot happen for what the routes build): sent as JSON
                pass
        if media is not None:
            headers.append((b"content-type", media))
        headers.append((b"content-length", str(len(body)).encode()))
        await self.inner({**self.start, "headers": headers})
        await self.inner({"type": "http.response.body", "body": b"" if self.head else body})
