"""Reading what a FHIR request carries: a bounded body and the FHIR headers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from fastapi import Request

from ..config import Settings
from ..fhir.outcome import FhirError, bad_request
from ..fhir.resource import parse_etag
from .negotiation import parse_fhir_body


T = TypeVar("T")

#: a body larger than this is parsed and checked in a worker thread: the event loop stays free to
#: answer other requests while a large (or hostile) body is worked through
LARGE_BODY = 64 * 1024


async def off_loop(size: int, work: Callable[..., T], *args: Any) -> T:
    """``work(*args)``, in a worker thread when it is about a body of more than :data:`LARGE_BODY` bytes
    (small bodies run inline: a thread hop would cost more than the work)."""
    if size <= LARGE_BODY:
        return work(*args)
    return await asyncio.to_thread(work, *args)


async def read_fhir_body(request: Request, settings: Settings, then: Callable[[Any], T] | None = None) -> Any:
    """The body, FHIR JSON or XML (as its ``Content-Type`` says), as FHIR JSON; more than
    ``max_request_bytes`` is refused before it is all read. ``then`` (say, validation) runs on the
    parsed body; both run off the event loop for a large body."""
    raw = await read_body(request, settings)
    if then is None:
        return await off_loop(len(raw), parse_fhir_body, request, raw)
    return await off_loop(len(raw), lambda: then(parse_fhir_body(request, raw)))


async def read_body(request: Request, settings: Settings) -> bytes:
    """The raw body, refusing more than ``max_request_bytes`` before reading it all."""
    limit = settings.max_request_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> FhirError:
    return FhirError.of(413, "too-costly", f"The request body is larger than this server's limit of {limit} bytes")


@dataclass(frozen=True, slots=True)
class Prefer:
    """The ``Prefer`` header: ``return=`` and ``handling=``.

    ``strict``: an unknown or unsupported search parameter is refused (400) rather than ignored.
    Without ``handling=`` it is the server's ``search_handling`` setting (strict unless set to
    lenient): ignoring a filter the client asked for would return more than it meant to see."""

    return_: str = "representation"
    strict: bool = True

    @classmethod
    def of(cls, request: Request, default_return: str = "representation") -> "Prefer":
        values: dict[str, str] = {}
        for header in request.headers.getlist("prefer"):
            for part in header.split(","):
                key, _, value = part.strip().partition("=")
                values[key.strip().lower()] = value.strip().strip('"')
        ret = values.get("return", default_return)
        if ret not in ("minimal", "representation", "OperationOutcome"):
            ret = default_return
        handling = values.get("handling")
        if handling not in ("strict", "lenient"):
            settings = getattr(request.app.state, "settings", None)
            handling = settings.search_handling if settings is not None else "strict"
        return cls(ret, handling == "strict")


def if_match(request: Request) -> int | None:
    value = request.headers.get("if-match")
    if value is None:
        return None
    vid = parse_etag(value)
    if vid is None:
        raise bad_request(f"If-Match '{value}' is not an ETag such as W/\"3\"", "If-Match")
    return vid


def query_items(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())
