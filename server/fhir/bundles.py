"""``POST /fhir`` with a Bundle of type ``transaction`` or ``batch``.

Transaction (all or nothing, one :meth:`Store.atomic` unit), in the order the
specification prescribes: DELETE, then POST, then PUT, then GET. Before any write, every
entry's target id is fixed (new ids for creates, matches for conditional creates and
updates), so references to ``urn:uuid:`` fullUrls and conditional references
(``Patient?identifier=…``) can be rewritten in every resource. A failing entry aborts
the whole unit and the error names the entry.

Batch: every entry on its own, each with its own status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, urlsplit

from ..storage.base import Tx, Version
from .dates import instant
from .ids import new_id
from .integrity import Pending
from .intake import resource_issues, status_for
from .profiling import catalog
from .outcome import FhirError, Issue, bad_request, not_found, operation_outcome
from .patch import JSON_PATCH, conditional_target, json_patch_in_binary, patch_in
from .repository import Repository, Result
from .resource import ID_RE, Path, body_of, etag, holder_at, parse_etag, reference_paths, with_references

REASONS = {200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 412: "Precondition Failed", 422: "Unprocessable Entity", 500: "Internal Server Error"}
ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


@dataclass(slots=True)
class Entry:
    """One request of the Bundle, checked and split into its parts."""

    index: int
    method: str
    url: str
    type: str
    id: str | None = None
    vid: str | None = None
    criteria: list[tuple[str, str]] | None = None  # conditional PUT/DELETE, or GET search
    full_url: str | None = None
    resource: dict[str, Any] | None = None
    if_none_exist: str | None = None
    if_match: int | None = None
    target: str | None = None  # "Type/id" this entry creates or updates, fixed before writing
    existing: Version | None = None  # conditional create that matched
    problems: list[Issue] = field(default_factory=list)
    status: int | None = None  # the status its problems get when it is not the body's 400/422: what the same request would get alone
    refs: list[Path] | None = None  # where the resource's references are (found when parsed)

    @property
    def label(self) -> str:
        return f"entry {self.index} ({self.method} {self.url})"


def _patch_kind(resource: Any) -> str | None:
    """"fhirpath" for a Parameters, "json" for a Binary holding a JSON Patch, else None."""
    if not isinstance(resource, dict):
        return None
    if resource.get("resourceType") == "Parameters":
        return "fhirpath"
    if resource.get("resourceType") == "Binary" and resource.get("contentType") == JSON_PATCH and isinstance(resource.get("data"), str):
        return "json"
    return None


def _status(code: int) -> str:
    return f"{code} {REASONS.get(code, '')}".strip()


def _entry_status(e: Entry) -> int:
    """The status of an entry's problems: what the same request would get on its own."""
    return e.status or status_for(e.problems)


def _error_entry(err: FhirError) -> dict[str, Any]:
    return {"response": {"status": _status(err.status), "outcome": err.outcome()}}


#: (type, id, require_id, issues) of one entry's resource, as :func:`check_entries` found them
CheckedEntry = tuple[str, "str | None", bool, list[Issue]]


def _resource_issues(resource: Any, args: tuple[str, str | None, bool], path: str, max_depth: int) -> list[Issue]:
    return resource_issues(resource, type_=args[0], id_=args[1], require_id=args[2], path=path, max_depth=max_depth)


def check_entries(bundle: dict[str, Any], max_depth: int) -> dict[int, CheckedEntry]:
    """The resource issues of every POST/PUT entry, computed the way :meth:`BundleProcessor.parse`
    would (a pure function, so it can run in another process)."""
    out: dict[int, CheckedEntry] = {}
    for i, raw in enumerate(bundle.get("entry") or []):
        request = raw.get("request") if isinstance(raw, dict) else None
        if not isinstance(request, dict) or request.get("method") not in ("POST", "PUT") or raw.get("resource") is None:
            continue
        url = request.get("url")
        if not isinstance(url, str):
            continue
        segments = urlsplit(url).path.strip("/").split("/")
        id_ = segments[1] if request["method"] == "PUT" and len(segments) >= 2 else None
        args = (segments[0], id_, id_ is not None)
        out[i] = (*args, _resource_issues(raw["resource"], args, f"Bundle.entry[{i}].resource", max_depth))
    return out


class BundleProcessor:
    def __init__(self, repo: Repository, *, prefer_return: str = "minimal", base: str | None = None, strict_search: bool = True) -> None:
        self.repo = repo
        self.prefer_return = prefer_return
        #: a search entry with an unknown parameter fails (its outcome names it) rather than matching more
        self.strict_search = strict_search
        self.base = base  #: the server's FHIR base URL, for the absolute fullUrls of the entries it returns

    def _full_url(self, v: Version) -> str:
        """An entry's fullUrl: absolute (R4: a fullUrl is an absolute URL) when the base is known."""
        return f"{self.base}/{v.type}/{v.id}" if self.base else f"{v.type}/{v.id}"

    # ----------------------------------------------------------------- parsing

    def parse(self, bundle: Any, checked: Mapping[int, CheckedEntry] | None = None) -> tuple[str, list[Entry]]:
        """The Bundle's type and its entries; envelope problems raise 400.

        ``checked``: each entry's resource issues computed beforehand by :func:`check_entries` (an
        import validates the next episodes in worker processes while this one is stored); an entry
        whose arguments differ from what the parse finds is checked again here."""
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise bad_request("POST to the base URL takes a Bundle of type transaction or batch", "Bundle.resourceType", code="structure")
        btype = bundle.get("type")
        if btype not in ("transaction", "batch"):
            raise bad_request(f"Bundle.type must be 'transaction' or 'batch', got {btype!r}", "Bundle.type", code="code-invalid" if isinstance(btype, str) else "structure")
        raw_entries = bundle.get("entry", [])
        if not isinstance(raw_entries, list):
            raise bad_request("Bundle.entry must be an array", "Bundle.entry", code="structure")
        if len(raw_entries) > self.repo.settings.max_bundle_entries:
            raise FhirError.of(413, "too-costly", f"The Bundle has {len(raw_entries)} entries; this server accepts at most {self.repo.settings.max_bundle_entries}", "Bundle.entry")
        extra = set(bundle) - {"resourceType", "id", "meta", "type", "entry", "identifier", "timestamp", "implicitRules", "language"}
        if extra:
            raise bad_request(f"Unknown or unexpected elements in the Bundle: {', '.join(sorted(extra))}", *(f"Bundle.{e}" for e in sorted(extra)), code="structure")
        checked = checked or {}
        return btype, [self._entry(i, e, checked.get(i)) for i, e in enumerate(raw_entries)]

    def _entry(self, i: int, raw: Any, done: CheckedEntry | None = None) -> Entry:
        where = f"Bundle.entry[{i}]"
        if not isinstance(raw, dict):
            return Entry(i, "?", "?", "?", problems=[Issue("structure", "An entry must be a JSON object", (where,))])
        request = raw.get("request")
        if not isinstance(request, dict):
            return Entry(i, "?", "?", "?", problems=[Issue("required", "Each entry of a transaction or batch needs a request", (f"{where}.request",))])
        method, url = request.get("method"), request.get("url")
        entry = Entry(i, str(method), str(url), "?", full_url=raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else None)
        if method not in ORDER:
            entry.problems.append(Issue("code-invalid", f"request.method must be GET, HEAD, POST, PUT, PATCH or DELETE, got {method!r}", (f"{where}.request.method",)))
            return entry
        if not isinstance(url, str) or not url:
            entry.problems.append(Issue("required", "request.url is required", (f"{where}.request.url",)))
            return entry
        self._parse_url(entry, url, where)
        if entry.type == "?":  # the URL names nothing this server stores: that is the entry's one error
            return entry
        for key in ("ifNoneExist", "ifMatch"):
            if key in request and not isinstance(request[key], str):
                entry.problems.append(Issue("structure", f"request.{key} must be a string", (f"{where}.request.{key}",)))
        entry.if_none_exist = request.get("ifNoneExist") if method == "POST" else None
        if isinstance(request.get("ifMatch"), str):
            entry.if_match = parse_etag(request["ifMatch"])
            if entry.if_match is None:
                entry.problems.append(Issue("value", f"request.ifMatch {request['ifMatch']!r} is not an ETag like W/\"3\"", (f"{where}.request.ifMatch",)))
        if method == "PATCH":
            patch_body = raw.get("resource")
            kind = _patch_kind(patch_body)
            if kind is None:
                entry.problems.append(Issue("required", "A PATCH entry needs a Parameters resource (FHIRPath Patch) or a Binary of "
                                            f"contentType {JSON_PATCH} (JSON Patch)", (f"{where}.resource",)))
            else:
                entry.resource = patch_body
        if method in ("POST", "PUT"):
            resource = raw.get("resource")
            if resource is None:
                entry.problems.append(Issue("required", f"A {method} entry needs a resource", (f"{where}.resource",)))
            else:
                entry.resource = resource
                entry.refs = reference_paths(resource)
                args = (entry.type, entry.id if method == "PUT" else None, method == "PUT" and entry.id is not None)
                if done is not None and done[:3] == args:
                    entry.problems.extend(done[3])
                else:
                    entry.problems.extend(_resource_issues(resource, args, f"{where}.resource", self.repo.settings.max_json_depth))
        return entry

    def _parse_url(self, entry: Entry, url: str, where: str) -> None:
        parts = urlsplit(url)
        path = parts.path.strip("/")
        segments = path.split("/") if path else []
        if entry.method != "GET" and parts.scheme:
            entry.problems.append(Issue("value", "request.url must be relative (Type, Type/id or Type?criteria)", (f"{where}.request.url",)))
            return
        operation = next((s for s in segments if s.startswith("$")), None)
        if operation is not None:
            entry.problems.append(Issue("not-supported", f"request.url '{url}' calls the operation {operation}, which this server does not run inside a "
                                        f"transaction or batch; call [base]/{path} directly", (f"{where}.request.url",)))
            entry.status = 400
            return
        if segments and segments[0] in catalog.TYPES and entry.method != "GET":
            entry.problems.append(Issue("not-supported", f"{segments[0]} is read-only on this server: it is served from the project's profiles, "
                                        f"not stored; {entry.method} is not allowed", (f"{where}.request.method",)))
            entry.status = 405  # as the same request sent alone
            return
        if not segments or (segments[0] not in self.repo.types and segments[0] not in catalog.TYPES):
            named = f"resource type '{segments[0]}'" if segments else "no resource type"
            entry.problems.append(Issue("not-supported", f"request.url '{url}' names {named}, which this server does not support", (f"{where}.request.url",)))
            entry.status = 404  # as the same request sent alone
            return
        entry.type = segments[0]
        if len(segments) >= 2:
            entry.id = segments[1]
            if not ID_RE.match(entry.id):
                entry.problems.append(Issue("value", f"'{entry.id}' is not a valid resource id", (f"{where}.request.url",)))
        if len(segments) == 4 and segments[2] == "_history":
            entry.vid = segments[3]
        elif len(segments) > 2 or (entry.method == "POST" and len(segments) != 1):
            entry.problems.append(Issue("value", f"request.url '{url}' is not a valid {entry.method} URL", (f"{where}.request.url",)))
        if parts.query:
            entry.criteria = parse_qsl(parts.query, keep_blank_values=True)
        if entry.method in ("PUT", "PATCH", "DELETE") and entry.id is None and not entry.criteria:
            entry.problems.append(Issue("value", f"{entry.method} needs Type/id or Type?criteria in request.url", (f"{where}.request.url",)))

    # ------------------------------------------------------------- transaction

    async def transaction(self, entries: list[Entry]) -> list[dict[str, Any]]:
        problems = [p for e in entries for p in e.problems]
        if problems:
            statuses = {_entry_status(e) for e in entries if e.problems}
            raise FhirError(statuses.pop() if len(statuses) == 1 else status_for(problems), problems)
        self._check_duplicates(entries)
        return await self.repo.atomic(lambda tx: self._run_transaction(tx, entries))

    def _check_duplicates(self, entries: list[Entry]) -> None:
        seen_full: dict[str, int] = {}
        seen_target: dict[str, int] = {}
        for e in entries:
            if e.full_url:
                if e.full_url in seen_full:
                    raise bad_request(f"fullUrl '{e.full_url}' appears in entries {seen_full[e.full_url]} and {e.index}", f"Bundle.entry[{e.index}].fullUrl")
                seen_full[e.full_url] = e.index
            if e.method in ("PUT", "PATCH", "DELETE") and e.id:
                key = f"{e.type}/{e.id}"
                if key in seen_target:
                    raise bad_request(f"{key} is the target of entries {seen_target[key]} and {e.index}; a transaction may change a resource only once", f"Bundle.entry[{e.index}].request.url")
                seen_target[key] = e.index

    async def _run_transaction(self, tx: Tx, entries: list[Entry]) -> list[dict[str, Any]]:
        responses: list[dict[str, Any] | None] = [None] * len(entries)
        ordered = sorted(entries, key=lambda e: ORDER[e.method])
        pending = Pending()  # referential integrity: checked once all entries have run
        for e in ordered:
            if e.method == "DELETE":
                responses[e.index] = await self._guard(e, lambda e=e: self._delete(tx, e, pending))
        targets, conditional = await self._resolve_targets(tx, entries)
        for e in ordered:
            if e.method in ("POST", "PUT"):
                responses[e.index] = await self._guard(e, lambda e=e: self._write(tx, e, targets, conditional, pending))
            elif e.method == "PATCH":
                responses[e.index] = await self._guard(e, lambda e=e: self._patch(tx, e, targets, conditional))
        for e in ordered:
            if e.method in ("GET", "HEAD"):
                responses[e.index] = await self._guard(e, lambda e=e: self._get(tx, e))
        await self.repo.check_integrity(tx, pending)
        return [r for r in responses if r is not None]

    async def _guard(self, e: Entry, step: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        """Run one entry; a failure names the entry and aborts the transaction."""
        try:
            return await step()
        except FhirError as err:
            issues = [Issue(i.code, f"Transaction failed at {e.label}: {i.diagnostics}", i.expression or (f"Bundle.entry[{e.index}]",), i.severity) for i in err.issues]
            raise FhirError(err.status, issues) from None

    async def _resolve_targets(self, tx: Tx, entries: list[Entry]) -> tuple[dict[str, str], dict[str, str]]:
        """Fix the id every POST/PUT entry will write, before any resource is written."""
        targets: dict[str, str] = {}  # fullUrl -> Type/id
        conditional: dict[str, str] = {}  # "Type?criteria" -> Type/id
        for e in entries:
            if e.method not in ("POST", "PUT"):
                continue
            await self._guard(e, lambda e=e: self._resolve_one(tx, e))
            assert e.target is not None
            if e.full_url:
                targets[e.full_url] = e.target
            if e.if_none_exist:
                conditional[f"{e.type}?{e.if_none_exist}"] = e.target
            if e.method == "PUT" and e.criteria is not None and e.id is None:
                conditional[e.url] = e.target
        return targets, conditional

    async def _resolve_one(self, tx: Tx, e: Entry) -> dict[str, Any]:
        if e.method == "POST":
            if e.if_none_exist:
                found = await self.repo.matches(tx, e.type, e.if_none_exist)
                if len(found) > 1:
                    raise FhirError.of(412, "duplicate", f"ifNoneExist '{e.if_none_exist}' matches more than one {e.type}")
                if found:
                    e.existing = found[0]
                    e.target = f"{e.type}/{found[0].id}"
                    return {}
            e.target = f"{e.type}/{new_id()}"
        elif e.id is not None:
            e.target = f"{e.type}/{e.id}"
        else:
            found = await self.repo.matches(tx, e.type, e.criteria or [])
            if len(found) > 1:
                raise FhirError.of(412, "duplicate", f"The conditional update criteria match more than one {e.type}")
            body_id = (e.resource or {}).get("id")
            e.target = f"{e.type}/{found[0].id if found else body_id or new_id()}"
        return {}

    async def _write(self, tx: Tx, e: Entry, targets: dict[str, str], conditional: dict[str, str], pending: Pending | None = None) -> dict[str, Any]:
        assert e.resource is not None and e.target is not None
        resource = await self._rewrite_references(tx, e, targets, conditional)
        type_, _, id_ = e.target.partition("/")
        where = f"Bundle.entry[{e.index}].resource"
        if e.method == "POST":
            if e.existing is not None:
                return self._entry_response(Result(e.existing, body_of(e.existing), 200))
            return self._entry_response(await self.repo.create(tx, type_, resource, id_=id_, pending=pending, where=where))
        resource = dict(resource, id=id_)
        return self._entry_response(await self.repo.update(tx, type_, id_, resource, if_match=e.if_match, pending=pending, where=where))

    async def _patch(self, tx: Tx, e: Entry, targets: dict[str, str] | None = None, conditional: dict[str, str] | None = None) -> dict[str, Any]:
        """A PATCH entry: the patch applied to the current version inside the unit, stored as its update."""
        assert e.resource is not None
        id_ = e.id if e.id is not None else await conditional_target(tx, self.repo, e.type, e.criteria or [])
        kind = _patch_kind(e.resource)
        body: Any = e.resource
        if kind == "json":
            body = json_patch_in_binary(e.resource)
        elif targets is not None:  # references to other entries of the transaction, in the values
            body = await self._rewrite_references(tx, e, targets, conditional or {})
        return self._entry_response(await patch_in(tx, self.repo, e.type, id_, kind or "", body, if_match=e.if_match))

    async def _delete(self, tx: Tx, e: Entry, pending: Pending | None = None) -> dict[str, Any]:
        if e.id is not None:
            result = await self.repo.delete(tx, e.type, e.id, if_match=e.if_match, pending=pending)
        else:
            result = await self.repo.conditional_delete(tx, e.type, e.criteria or [], pending=pending)
        if result is None:
            return {"response": {"status": _status(204)}}
        return {"response": {"status": _status(204), "etag": etag(result.version.vid), "lastModified": instant(result.version.ts)}}

    async def _get(self, tx: Tx | None, e: Entry) -> dict[str, Any]:
        if e.type in catalog.TYPES:  # served from profiles/, as the direct read and search are
            return self._conformance_get(e)
        self.repo.access.require(e.type, "search" if e.id is None else "read")
        if e.id is None:
            parsed = self.repo.parse_search(e.type, e.criteria or [], strict=self.strict_search)
            result = await self.repo.search(e.type, parsed, {}, tx=tx)
            resources = [{"fullUrl": self._full_url(v), "resource": body_of(v), "search": {"mode": "match"}} for v in result.matches]
            resources += [{"fullUrl": self._full_url(v), "resource": body_of(v), "search": {"mode": "include"}} for v in result.included]
            if parsed.ignored or result.notes:
                resources.append({"resource": operation_outcome(parsed.ignored + result.notes), "search": {"mode": "outcome"}})
            searchset: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": resources}
            if result.total is not None:
                searchset["total"] = result.total
            return {"resource": searchset, "response": {"status": _status(200)}}
        if e.vid is not None:
            version = await self.repo.vread(e.type, e.id, e.vid)
        else:
            current = await (tx.current(e.type, e.id) if tx else self.repo.store.current(e.type, e.id))
            if current is None:
                raise not_found(f"Resource {e.type}/{e.id} is not known")
            if current.deleted:
                raise FhirError.of(410, "deleted", f"Resource {e.type}/{e.id} was deleted")
            version = current
        return {"resource": body_of(version), "response": {"status": _status(200), "etag": etag(version.vid), "lastModified": instant(version.ts)}}

    def _conformance_get(self, e: Entry) -> dict[str, Any]:
        """A read or search of the read-only conformance resources: what the direct request answers."""
        if e.id is not None:
            return {"resource": catalog.read(e.type, e.id), "response": {"status": _status(200)}}
        found, _, notes = catalog.search(e.type, e.criteria or [], strict=self.strict_search)
        entries: list[dict[str, Any]] = [{"fullUrl": f"{self.base}/{e.type}/{r['id']}" if self.base else f"{e.type}/{r['id']}",
                                          "resource": r, "search": {"mode": "match"}} for r in found]
        if notes:
            entries.append({"resource": operation_outcome(notes), "search": {"mode": "outcome"}})
        return {"resource": {"resourceType": "Bundle", "type": "searchset", "total": len(found), "entry": entries},
                "response": {"status": _status(200)}}

    async def _rewrite_references(self, tx: Tx, e: Entry, targets: dict[str, str], conditional: dict[str, str]) -> dict[str, Any]:
        """``e``'s resource with its references pointing at the ids fixed for this transaction
        (a new object: the entry's own resource stays as sent, should the unit run again)."""
        assert e.resource is not None
        changes: list[tuple[Path, str]] = []
        for path in e.refs if e.refs is not None else reference_paths(e.resource):
            ref = holder_at(e.resource, path)["reference"]
            if ref in targets:
                changes.append((path, targets[ref]))
            elif ref in conditional:
                changes.append((path, conditional[ref]))
            elif "?" in ref or ref.startswith("urn:uuid:") or ref.startswith("urn:oid:"):
                changes.append((path, await self._resolve_reference(tx, ref)))
        return with_references(e.resource, changes)

    async def _resolve_reference(self, tx: Tx, ref: str) -> str:
        if ref.startswith(("urn:uuid:", "urn:oid:")):
            raise FhirError.of(404, "not-found", f"Reference '{ref}' does not match the fullUrl of any entry in this transaction")
        type_, _, query = ref.partition("?")
        if type_ not in self.repo.types:
            raise FhirError.of(400, "invalid", f"Conditional reference '{ref}' does not name a supported resource type")
        found = await self.repo.matches(tx, type_, query)
        if len(found) != 1:
            how = "no resource" if not found else "more than one resource"
            raise FhirError.of(412, "not-found" if not found else "duplicate", f"Conditional reference '{ref}' matches {how}; it must match exactly one")
        return f"{type_}/{found[0].id}"

    def _entry_response(self, result: Result) -> dict[str, Any]:
        v = result.version
        out: dict[str, Any] = {
            "response": {
                "status": _status(result.status),
                "location": f"{v.type}/{v.id}/_history/{v.vid}",
                "etag": etag(v.vid),
                "lastModified": instant(v.ts),
            }
        }
        if self.prefer_return == "representation" and result.resource is not None:
            out["fullUrl"] = self._full_url(v)
            out["resource"] = result.resource
        elif self.prefer_return == "OperationOutcome":
            out["response"]["outcome"] = operation_outcome(result.issues)
        return out

    # ------------------------------------------------------------------- batch

    async def batch(self, entries: list[Entry]) -> list[dict[str, Any]]:
        responses = []
        for e in entries:
            if e.problems:
                responses.append(_error_entry(FhirError(_entry_status(e), e.problems)))
                continue
            try:
                if e.method in ("GET", "HEAD"):
                    responses.append(await self._get(None, e))
                else:
                    responses.append(await self.repo.atomic(lambda tx, e=e: self._batch_write(tx, e)))
            except FhirError as err:
                responses.append(_error_entry(err))
        return responses

    async def _batch_write(self, tx: Tx, e: Entry) -> dict[str, Any]:
        if e.method == "DELETE":
            return await self._delete(tx, e)
        if e.method == "PATCH":
            return await self._patch(tx, e)
        assert e.resource is not None
        if e.method == "POST":
            return self._entry_response(await self.repo.create(tx, e.type, e.resource, if_none_exist=e.if_none_exist))
        if e.id is not None:
            return self._entry_response(await self.repo.update(tx, e.type, e.id, e.resource, if_match=e.if_match))
        return self._entry_response(await self.repo.conditional_update(tx, e.type, e.criteria or [], e.resource, if_match=e.if_match))

