"""``$meta``, ``$meta-add``, ``$meta-delete`` (R4 Resource operations): the profiles, tags and
security labels of resources.

``$meta`` (system, type or instance; GET or POST) answers a ``Parameters`` whose ``return`` is
a Meta: the instance's own, or every profile, tag and security label in use on the resources
of a type or of the server that the token may see. ``$meta-add`` / ``$meta-delete`` (instance,
POST a ``Parameters`` with a ``meta`` parameter) add or remove those three lists and answer
the resulting Meta. As R4 says, and as HAPI does, a meta change makes no new version (meta
does not change what the resource means): the current version is rewritten in place, its
search index with it (``_tag``, ``_profile``, ``_security`` find the change), through the
same guarded, audited unit of work as any write.
"""

from __future__ import annotations

from typing import Any, Callable

from ... import jsonio
from ...storage.base import Query, Tx, Version, Write
from ..outcome import bad_request, gone, not_found
from ..repository import Repository
from ..resource import body_of
from .validate import parameter_values

#: the Meta lists these operations read and change
LISTS = ("profile", "tag", "security")
_PAGE = 500


def as_parameters(meta: dict[str, Any]) -> dict[str, Any]:
    """The operations' answer: ``Parameters`` with the Meta as ``return``."""
    return {"resourceType": "Parameters", "parameter": [{"name": "return", "valueMeta": meta}]}


def _key(list_name: str, item: Any) -> Any:
    """What makes two entries of a Meta list the same one: the URL of a profile, the
    system and code of a tag or label."""
    if list_name == "profile":
        return item
    return (item.get("system"), item.get("code"))


def _merged(metas: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in LISTS:
        seen: dict[Any, Any] = {}
        for meta in metas:
            for item in meta.get(name) or []:
                seen.setdefault(_key(name, item), item)
        if seen:
            out[name] = list(seen.values())
    return out


async def instance_meta(repo: Repository, type_: str, id_: str) -> dict[str, Any]:
    """The Meta of the current version (read access, 404/410 as a read)."""
    return body_of(await repo.read(type_, id_)).get("meta") or {}


async def meta_in_use(repo: Repository, type_: str | None) -> dict[str, Any]:
    """Every profile, tag and security label on the current resources of ``type_`` (every
    type when ``None``) that this token may see: a walk of them, a page at a time."""
    if type_ is not None:
        repo.check_type(type_)
        repo.access.require(type_, "search")
    metas: list[dict[str, Any]] = []
    after: tuple[Any, ...] | None = None
    while True:
        page = await repo.store.search(Query(type_, after=after, limit=_PAGE))
        metas += [body_of(v).get("meta") or {} for v in page.versions]
        metas = [_merged(metas)]
        if len(page.versions) < _PAGE or not page.keys:
            return metas[0]
        after = page.keys[-1]


def meta_argument(body: Any) -> dict[str, Any]:
    """The ``meta`` parameter of a ``$meta-add``/``$meta-delete`` body, checked: a Meta whose
    profiles are strings and whose tags and labels are Codings with a code."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise bad_request("The body must be a Parameters resource with a 'meta' parameter", "Parameters", code="structure")
    metas = [value for name, value in parameter_values(body) if name == "meta"]
    if len(metas) != 1 or not isinstance(metas[0], dict):
        raise bad_request("Parameters must hold exactly one 'meta' parameter with a valueMeta", "Parameters.parameter")
    meta = metas[0]
    for name in LISTS:
        items = meta.get(name, [])
        where = f"Parameters.parameter.valueMeta.{name}"
        if not isinstance(items, list):
            raise bad_request(f"{name} must be an array", where, code="structure")
        for item in items:
            if name == "profile" and not (isinstance(item, str) and item):
                raise bad_request("a profile is a canonical URL (a string)", where)
            if name != "profile" and not (isinstance(item, dict) and isinstance(item.get("code"), str) and item["code"]
                                          and isinstance(item.get("system", ""), str)):
                raise bad_request(f"each {name} is a Coding with a code (and a system)", where)
    return meta


def added(current: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    out.update(_merged([current, {k: change[k] for k in LISTS if k in change}]))
    return out


def deleted(current: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(current)
    for name in LISTS:
        gone_keys = {_key(name, item) for item in change.get(name) or []}
        kept = [item for item in current.get(name) or [] if _key(name, item) not in gone_keys]
        if kept:
            out[name] = kept
        else:
            out.pop(name, None)
    return out


async def change_meta(repo: Repository, type_: str, id_: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Apply ``change`` to the current version's Meta in place (no new version); the new Meta.
    The guarded unit checks update access to the resource as it is and as it becomes."""
    repo.check_type(type_)

    async def work(tx: Tx) -> dict[str, Any]:
        current = await tx.current(type_, id_)  # the guarded view: another patient's resource is not there
        if current is None:
            raise not_found(f"Resource {type_}/{id_} is not known")
        if current.deleted:
            raise gone(f"Resource {type_}/{id_} was deleted (version {current.vid})")
        resource = body_of(current)
        meta = change(resource.get("meta") or {})
        stored = {**resource, "meta": meta}
        version = Version(type_, id_, current.vid, current.ts, current.method, jsonio.dumps(stored))
        await tx.write(Write(version, repo.index_of(stored), current.vid, in_place=True))
        return meta

    return await repo.atomic(work)
