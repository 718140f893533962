"""Where an import stores episodes: the store in-process, or a Liên Thông server over HTTP.

Either way one episode is one ``transaction`` Bundle, so it is stored whole or not at all. Every
request asks for ``Prefer: return=OperationOutcome``: the server then says, per entry, when a
conditional create found its match or an update equalled the current version, which is how an
episode is told to be *unchanged* (all entries 200 with such a note), *updated* (something
changed in place) or *created* (its Encounter answered 201).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from .. import jsonio
from ..config import Settings
from ..fhir.bundles import BundleProcessor, CheckedEntry
from ..fhir.outcome import FhirError
from ..fhir.repository import Repository
from ..storage.base import Store
from ..storage.factory import make_store

PREFER = "OperationOutcome"
CHANGES = ("created", "updated", "unchanged")


@dataclass(frozen=True, slots=True)
class Stored:
    change: str  # one of CHANGES
    encounter: str | None  # "Encounter/{id}/_history/{vid}" as the transaction answered


class Refused(Exception):
    """The store or server would not take the episode; ``status`` 0 when it could not be asked."""

    def __init__(self, status: int, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.status = status
        self.reasons = reasons


class TargetUnavailable(Exception):
    """The store cannot be opened or the server does not answer as a FHIR server."""


class Target(Protocol):
    description: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def store(self, bundle: dict[str, Any], checked: Mapping[int, CheckedEntry] | None = None) -> Stored:
        """Store one episode's transaction; ``checked``: its resources' issues found beforehand
        (see :func:`server.fhir.bundles.check_entries`), or None."""
        ...

    #: the JSON depth limit of the target's validation, when the import may validate for it in
    #: worker processes (None: the target validates itself, e.g. a server over HTTP)
    check_depth: int | None


# ----------------------------------------------------------------------------- reading answers

def _no_change(sent: dict[str, Any], entry: dict[str, Any]) -> bool:
    """A transaction-response entry that wrote nothing.

    A conditional create answers 200 only when it found its match (it made nothing); an update
    answers 200 both when it made a new version and when the content was equal, and only the
    latter carries the "No change" note; a delete with nothing to delete has no ETag.
    """
    response = entry.get("response") or {}
    status = str(response.get("status", ""))
    method = str((sent.get("request") or {}).get("method", "")).upper()
    if status.startswith("204"):
        return "etag" not in response
    if not status.startswith("200"):
        return False
    if method == "POST" or method == "GET":
        return True
    issues = (response.get("outcome") or {}).get("issue") or []
    return any(i.get("severity") == "information" and (i.get("code") == "duplicate" or str(i.get("diagnostics", "")).startswith("No change")) for i in issues)


def classify(request: dict[str, Any], answers: list[dict[str, Any]]) -> Stored:
    """What storing ``request`` (the transaction Bundle) did, from its response entries."""
    entries = request.get("entry") or []
    encounter = None
    encounter_created = False
    for sent, answer in zip(entries, answers):
        if str((sent.get("request") or {}).get("url", "")).startswith("Encounter"):
            response = answer.get("response") or {}
            encounter = response.get("location")
            encounter_created = str(response.get("status", "")).startswith("201")
            break
    if encounter_created:
        return Stored("created", encounter)
    if all(_no_change(sent, a) for sent, a in zip(entries, answers)):
        return Stored("unchanged", encounter)
    return Stored("updated", encounter)


def outcome_reasons(outcome: Any) -> list[str]:
    issues = outcome.get("issue") if isinstance(outcome, dict) else None
    reasons = [str(i.get("diagnostics") or i.get("code") or "error") for i in issues or [] if isinstance(i, dict)]
    return reasons or ["refused without an explanation"]


# ----------------------------------------------------------------------------- in-process store

class StoreTarget:
    """Episodes through the Repository and BundleProcessor, as ``POST /fhir`` would store them."""

    def __init__(self, url: str | None = None, *, store: Store | None = None, repo: Repository | None = None) -> None:
        self.settings = Settings.from_env(store_url=url)
        self.description = f"store {self.settings.store_url}"
        self._own = repo is None and store is None
        self._store = store
        self.repo = repo

    async def open(self) -> None:
        if self.repo is not None:
            return
        try:
            if self._store is None:
                self._store = make_store(self.settings.store_url)
                await self._store.open()
        except Exception as exc:  # a bad URL, a refused MongoDB, a folder we cannot write
            raise TargetUnavailable(f"cannot use {self.description}: {exc}") from None
        self.repo = Repository(self._store, self.settings)

    async def close(self) -> None:
        if self._own and self._store is not None:
            await self._store.close()

    @property
    def check_depth(self) -> int | None:
        return self.settings.max_json_depth

    async def store(self, bundle: dict[str, Any], checked: Mapping[int, CheckedEntry] | None = None) -> Stored:
        assert self.repo is not None, "open() first"
        processor = BundleProcessor(self.repo, prefer_return=PREFER)
        try:
            _, entries = processor.parse(bundle, checked)
            answers = await processor.transaction(entries)
        except FhirError as err:
            raise Refused(err.status, [i.diagnostics for i in err.issues] or [str(err)]) from None
        return classify(bundle, answers)


# ----------------------------------------------------------------------------- a server over HTTP

class ServerTarget:
    """Episodes POSTed as transaction Bundles to a FHIR base URL (``http://host:8080/fhir``)."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 120.0, transport: Any = None) -> None:
        self.base = base_url.rstrip("/")
        self._token = token
        self.description = f"server {self.base}"
        self._timeout = timeout
        self._transport = transport  # tests pass an in-process ASGI transport
        self._client: Any = None

    async def open(self) -> None:
        import httpx

        if not self.base.startswith(("http://", "https://")):
            raise TargetUnavailable(f"--server takes the FHIR base URL (http://host:port/fhir), got {self.base!r}")
        headers = {"Accept": "application/fhir+json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self._client = httpx.AsyncClient(base_url=self.base + "/", timeout=self._timeout, transport=self._transport, headers=headers)
        try:
            r = await self._client.get("metadata")
            ok = r.status_code == 200 and r.json().get("resourceType") == "CapabilityStatement"
        except (httpx.HTTPError, ValueError) as exc:
            await self._client.aclose()
            raise TargetUnavailable(f"cannot reach {self.description}: {exc}") from None
        if not ok:
            await self._client.aclose()
            raise TargetUnavailable(f"{self.base}/metadata did not answer with a CapabilityStatement (HTTP {r.status_code}); is it the FHIR base URL?")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    check_depth = None  # the server validates what it receives

    async def store(self, bundle: dict[str, Any], checked: Mapping[int, CheckedEntry] | None = None) -> Stored:
        import httpx

        headers = {"Content-Type": "application/fhir+json", "Prefer": f"return={PREFER}"}
        try:
            r = await self._client.post("", content=jsonio.dumps(bundle), headers=headers)
        except httpx.HTTPError as exc:
            raise Refused(0, [f"the server could not be reached: {type(exc).__name__} {exc}".strip()]) from None
        try:
            body = jsonio.loads(r.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            body = None
        if r.status_code != 200:
            reasons = outcome_reasons(body) if isinstance(body, dict) else [f"HTTP {r.status_code}: {r.text[:200]}"]
            raise Refused(r.status_code, reasons)
        if not isinstance(body, dict) or body.get("type") != "transaction-response":
            raise Refused(r.status_code, ["the server's answer is not a transaction-response Bundle"])
        return classify(bundle, body.get("entry") or [])
