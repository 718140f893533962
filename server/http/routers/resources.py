"""Instance and type interactions: create, read, vread, update, delete and their conditional forms."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...fhir.intake import check_resource, parse_json
from ...fhir.outcome import Issue, bad_request, operation_outcome
from ...fhir.patch import JSON_PATCH, conditional_target, patch
from ...fhir.repository import Repository
from ...fhir.resource import ID_RE
from ..negotiation import check_accept, fhir_response, parse_fhir_body
from ..requests import Prefer, if_match, off_loop, query_items, read_body, read_fhir_body
from ..responses import read_response, repo_of, version_headers, write_response

router = APIRouter()


def _type_repo(request: Request, type_: str) -> Repository:
    """What every type-level interaction checks first (format asked for, type served), and
    the repository as this request's token sees it."""
    check_accept(request)
    repo = repo_of(request)
    repo.check_type(type_)
    return repo


def _instance_repo(request: Request, type_: str, id_: str) -> Repository:
    """As :func:`_type_repo`, and the id is a valid FHIR id."""
    repo = _type_repo(request, type_)
    _check_id(type_, id_)
    return repo


def _criteria(request: Request) -> list[tuple[str, str]]:
    """The search criteria of a conditional interaction (the query without the format controls)."""
    return [(k, v) for k, v in query_items(request) if k not in ("_format", "_pretty")]


def _check_id(type_: str, id_: str) -> None:
    if not ID_RE.match(id_):
        raise bad_request(f"'{id_}' is not a valid FHIR id (1-64 characters of A-Z, a-z, 0-9, '-' and '.')", f"{type_}.id")


async def _body(request: Request, type_: str, id_: str | None = None, require_id: bool = False) -> dict:
    repo = repo_of(request)
    repo.access.require_any(type_, "create" if request.method == "POST" else "update", "create")
    depth = repo.settings.max_json_depth
    return await read_fhir_body(request, repo.settings, lambda data: check_resource(data, type_=type_, id_=id_, require_id=require_id, max_depth=depth))


@router.post("/{type_:rtype}")
async def create(request: Request, type_: str) -> Response:
    repo = _type_repo(request, type_)
    resource = await _body(request, type_)
    if_none_exist = request.headers.get("if-none-exist")
    ahead = repo.ahead_create(type_, resource)  # here, not inside the unit: the write lock is held there
    result = await repo.atomic(lambda tx: repo.create(tx, type_, resource, if_none_exist=if_none_exist, ahead=ahead), ahead=ahead)
    return write_response(request, result, Prefer.of(request))


@router.put("/{type_:rtype}")
async def conditional_update(request: Request, type_: str) -> Response:
    repo = _type_repo(request, type_)
    criteria = _criteria(request)
    resource = await _body(request, type_)
    expected = if_match(request)
    result = await repo.atomic(lambda tx: repo.conditional_update(tx, type_, criteria, resource, if_match=expected))
    return write_response(request, result, Prefer.of(request))


@router.delete("/{type_:rtype}")
async def conditional_delete(request: Request, type_: str) -> Response:
    repo = _type_repo(request, type_)
    criteria = _criteria(request)
    repo.access.require(type_, "delete")
    result = await repo.atomic(lambda tx: repo.conditional_delete(tx, type_, criteria))
    return _delete_response(request, type_, "matching the criteria", result)


@router.get("/{type_:rtype}/{id_}")
async def read(request: Request, type_: str, id_: str) -> Response:
    check_accept(request)
    version = await repo_of(request).read(type_, id_)
    return read_response(request, version)


@router.get("/{type_:rtype}/{id_}/_history/{vid}")
async def vread(request: Request, type_: str, id_: str, vid: str) -> Response:
    check_accept(request)
    version = await repo_of(request).vread(type_, id_, vid)
    return read_response(request, version)


@router.put("/{type_:rtype}/{id_}")
async def update(request: Request, type_: str, id_: str) -> Response:
    repo = _instance_repo(request, type_, id_)
    resource = await _body(request, type_, id_, require_id=True)
    expected = if_match(request)
    ahead = await repo.ahead_update(type_, id_, resource)  # here, not inside the unit: the write lock is held there
    result = await repo.atomic(lambda tx: repo.update(tx, type_, id_, resource, if_match=expected, ahead=ahead), ahead=ahead)
    return write_response(request, result, Prefer.of(request))


@router.patch("/{type_:rtype}/{id_}")
async def patch_instance(request: Request, type_: str, id_: str) -> Response:
    repo = _instance_repo(request, type_, id_)
    kind, body = await _patch_body(request, repo)
    result = await patch(repo, type_, id_, kind, body, if_match=if_match(request))
    return write_response(request, result, Prefer.of(request))


@router.patch("/{type_:rtype}")
async def conditional_patch(request: Request, type_: str) -> Response:
    repo = _type_repo(request, type_)
    kind, body = await _patch_body(request, repo)
    id_ = await conditional_target(repo.store, repo, type_, _criteria(request))  # a read: no unit of work
    result = await patch(repo, type_, id_, kind, body, if_match=if_match(request))
    return write_response(request, result, Prefer.of(request))


async def _patch_body(request: Request, repo: Repository) -> tuple[str, object]:
    """("json", the JSON Patch operations) or ("fhirpath", the Parameters), by Content-Type."""
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    raw = await read_body(request, repo.settings)
    if media == JSON_PATCH:
        return "json", await off_loop(len(raw), parse_json, raw)
    return "fhirpath", await off_loop(len(raw), parse_fhir_body, request, raw)


@router.delete("/{type_:rtype}/{id_}")
async def delete(request: Request, type_: str, id_: str) -> Response:
    repo = _instance_repo(request, type_, id_)
    repo.access.require(type_, "delete")
    expected = if_match(request)
    result = await repo.atomic(lambda tx: repo.delete(tx, type_, id_, if_match=expected))
    return _delete_response(request, type_, id_, result)


def _delete_response(request: Request, type_: str, what: str, result) -> Response:  # type: ignore[no-untyped-def]
    """200 with an OperationOutcome (204 when ``Prefer: return=minimal``), as HAPI does."""
    if result is None:
        text = f"Nothing to delete: no current {type_} {what}"
        headers: dict[str, str] = {}
    else:
        v = result.version
        text = f"Deleted {v.type}/{v.id}; version {v.vid} records the deletion"
        headers = version_headers(v)
    if Prefer.of(request, "OperationOutcome").return_ == "minimal":
        return Response(status_code=204, headers=headers)
    return fhir_response(operation_outcome([Issue("informational", text, severity="information")]), 200, headers)
