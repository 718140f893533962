"""The ``lienthong`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from . import jsonio
from mappings.bhyt_xml.layouts import STANDARDS

from .auth.cli import add_auth_commands
from .config import DEFAULT_STORE, Settings
from .storage.base import StoreConfigError
from .storage.factory import make_store, opened


async def _check_store(url: str) -> None:
    store = make_store(url)
    await store.open()
    await store.close()


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


async def _dev_admin(url: str) -> str | None:
    """On a store without local accounts: an ``admin`` with a fresh password (returned), else ``None``."""
    from .auth.users import ensure_dev_admin

    async with opened(url) as store:
        return await ensure_dev_admin(store)


def _serve(args: argparse.Namespace) -> int:
    """Check the store and do the start-up work once, then run ``--workers`` uvicorn worker
    processes (uvloop, httptools) sharing the port; each builds its app from the
    environment set here (:func:`server.app.app_from_env`)."""
    import uvicorn

    from .app import NoDelayHttpToolsProtocol, load_examples_once

    auth = None if args.auth is None else args.auth == "on"
    cors = tuple(args.cors_origin) if args.cors_origin else None
    try:
        settings = Settings.from_env(store_url=args.store, require_profiles=True if args.require_profiles else None,
                                     security_checks=True if args.security_checks else None, auth=auth, cors_origins=cors,
                                     search_handling=args.search_handling,
                                     integrity_on_write=False if args.no_integrity_on_write else None,
                                     integrity_on_delete=False if args.no_integrity_on_delete else None)
    except ValueError as exc:
        print(f"lienthong: {exc}", file=sys.stderr)
        return 2
    if not settings.auth and not _loopback(args.host):
        print(f"lienthong: refusing to serve {args.host} with authorization off: --auth off is for local development on a loopback address (127.0.0.1, ::1) only", file=sys.stderr)
        return 2
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        print("lienthong: --workers takes 1 or more", file=sys.stderr)
        return 2
    try:
        asyncio.run(_check_store(settings.store_url))
        admin = asyncio.run(_dev_admin(settings.store_url)) if args.dev_admin and settings.auth else None
    except (StoreConfigError, ValueError) as exc:
        print(f"lienthong: cannot use store {settings.store_url}: {exc}", file=sys.stderr)
        return 2
    if args.load_examples:
        asyncio.run(load_examples_once(settings, Path(args.load_examples)))
    base = f"http://{args.host}:{args.port}"
    print(f"Liên Thông FHIR server on {base}/fhir (store: {settings.store_url}; {workers} worker process{'es' if workers > 1 else ''})", file=sys.stderr)
    if not settings.auth:
        print("WARNING: authorization is OFF (--auth off): anyone who reaches this port can read and change every record. Local development only.", file=sys.stderr)
    else:
        print(f"Authorization is on: every /fhir request needs a bearer token (see {base}/fhir/.well-known/smart-configuration).", file=sys.stderr)
    print(f"Doctors' workspace: {base}/app/ (sign in with a local account: 'lienthong users add NAME --role doctor --password-stdin')", file=sys.stderr)
    if admin is not None:
        me = sys.argv[0] if sys.argv and sys.argv[0].endswith("lienthong") else "lienthong"
        print(
            "\nFirst start: a local development admin was created.\n"
            f"  user: admin   password: {admin}   (shown once; change it with '{me} users add admin --role admin')\n"
            f"  sign in to the workspace: {base}/app/\n"
            "  get a token for scripts and curl:\n"
            f"    TOKEN=$({me} token --scope 'user/*.cruds user/AuditEvent.rs' --user admin --store {settings.store_url})\n"
            f"    curl -H \"Authorization: Bearer $TOKEN\" {base}/fhir/Patient\n"
            f"  log in (authorization code + PKCE): register a client with '{me} clients add ID --redirect-uri URI --scope ...',\n"
            f"    then open {base}/auth/authorize?response_type=code&client_id=ID&redirect_uri=URI&scope=...&code_challenge=...&code_challenge_method=S256\n",
            file=sys.stderr,
        )
    # The workers are spawned processes: they read their settings from the environment.
    worker_env = {
        "LIENTHONG_STORE": settings.store_url,
        "LIENTHONG_AUTH": "on" if settings.auth else "off",
        "LIENTHONG_REQUIRE_PROFILES": "1" if settings.require_profiles else "0",
        "LIENTHONG_SECURITY_CHECKS": "1" if settings.security_checks else "0",
        "LIENTHONG_SEARCH_HANDLING": settings.search_handling,
        "LIENTHONG_INTEGRITY_ON_WRITE": "1" if settings.integrity_on_write else "0",
        "LIENTHONG_INTEGRITY_ON_DELETE": "1" if settings.integrity_on_delete else "0",
        "LIENTHONG_CORS_ORIGINS": ",".join(settings.cors_origins),
    }
    saved = {name: os.environ.get(name) for name in worker_env}
    os.environ.update(worker_env)
    try:
        # keep-alive: idle connections stay open 75 s (uvicorn's 5 s closes a pooled client's
        # connection under it, and a POST sent on it then fails rather than being retried)
        uvicorn.run("server.app:app_from_env", factory=True, host=args.host, port=args.port, workers=workers,
                    loop="uvloop", http=NoDelayHttpToolsProtocol, log_level=args.log_level, timeout_keep_alive=75)
    finally:  # leave the caller's environment as it was (matters when called in-process)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return 0


# ----------------------------------------------------------------------------- transfer54
# Problems are printed as "FILE: FIELD: reason"; a problem about the whole input (unreadable
# file, bad JSON/XML, not an object, not a Bundle) has no field and uses the label "(record)".

_WHOLE = "(record)"


class _Failed(Exception):
    """The input of one file cannot be used; carries its problems."""

    def __init__(self, problems: list) -> None:
        super().__init__(problems)
        self.problems = problems


def _problem(reason: str, code: str):  # noqa: ANN202 - Problem is imported lazily
    from mappings.transfer54.validate import Problem

    return Problem(None, reason, code)


def _label(name: str) -> str:
    return "<stdin>" if name == "-" else name


def _read(name: str) -> bytes:
    if name == "-":
        stdin = sys.stdin
        buffer = getattr(stdin, "buffer", None)
        try:
            return buffer.read() if buffer is not None else stdin.read().encode("utf-8")
        except (OSError, UnicodeError) as exc:
            raise _Failed([_problem(f"cannot read standard input: {exc}", "unreadable")]) from None
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise _Failed([_problem(f"cannot read the file: {exc.strerror or exc}", "unreadable")]) from None


def _parse_json(data: bytes) -> object:
    try:
        return jsonio.loads(data)
    except UnicodeDecodeError as exc:
        raise _Failed([_problem(f"the file is not UTF-8: {exc}", "bad-json")]) from None
    except jsonio.JSONDecodeError as exc:
        raise _Failed([_problem(f"not valid JSON: {exc}", "bad-json")]) from None
    except RecursionError:
        raise _Failed([_problem("not usable JSON: nested too deeply", "bad-json")]) from None


def _load_record(name: str, xml: bool) -> object:
    """The record in FILE (JSON form, or XML form with --xml); raises _Failed if it is invalid."""
    from mappings.transfer54.validate import validate
    from mappings.transfer54.xml_form import XmlFormError, parse_xml

    data = _read(name)
    if xml:
        try:
            record: object = parse_xml(data)
        except XmlFormError as exc:
            raise _Failed([_problem(str(exc), "bad-xml")]) from None
    else:
        record = _parse_json(data)
    problems = validate(record)  # type: ignore[arg-type]
    if problems:
        raise _Failed(problems)
    return record


def _report(name: str, problems: list) -> None:
    for p in problems:
        print(f"{_label(name)}: {p.field or _WHOLE}: {p.reason}", file=sys.stderr)


def _emit(data: bytes) -> None:
    """Write bytes to stdout (through its binary buffer when it has one), ending with a newline."""
    if not data.endswith(b"\n"):
        data += b"\n"
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(data.decode("utf-8"))
        out.flush()
        return
    out.flush()
    buffer.write(data)
    buffer.flush()


def _t54_validate(args: argparse.Namespace) -> int:
    status = 0
    for name in args.files:
        try:
            _load_record(name, args.xml)
        except _Failed as failed:
            _report(name, failed.problems)
            status = 1
            continue
        print(f"{_label(name)}: valid")
    return status


def _t54_to_fhir(args: argparse.Namespace) -> int:
    from mappings.transfer54.fhir import to_fhir

    try:
        record = _load_record(args.file, args.xml)
        try:
            bundle = to_fhir(record)  # type: ignore[arg-type]
            out = jsonio.dumps(bundle, pretty=True)
        except Exception as exc:  # a mapping defect: still report it as a problem, not a traceback
            raise _Failed([_problem(f"the record could not be mapped to FHIR: {exc}", "mapping-failed")]) from None
    except _Failed as failed:
        _report(args.file, failed.problems)
        return 1
    _emit(out)
    return 0


def _t54_from_fhir(args: argparse.Namespace) -> int:
    from mappings.transfer54.fhir import from_fhir
    from mappings.transfer54.validate import validate
    from mappings.transfer54.xml_form import XmlFormError, write_xml

    try:
        bundle = _parse_json(_read(args.file))
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise _Failed([_problem("the input is not a FHIR Bundle (a JSON object with resourceType \"Bundle\")", "not-a-bundle")])
        try:
            record = from_fhir(bundle)
        except Exception as exc:  # any defect of the bundle's shape surfaces here
            why = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__} {exc}"
            raise _Failed([_problem(f"the Bundle cannot be read as a transfer record: {why}", "bad-bundle")]) from None
        problems = validate(record)
        if problems:
            raise _Failed(problems)
        try:
            out = write_xml(record) if args.xml else jsonio.dumps(record, pretty=True)
        except XmlFormError as exc:
            raise _Failed([_problem(str(exc), "bad-xml")]) from None
    except _Failed as failed:
        _report(args.file, failed.problems)
        return 1
    _emit(out)
    return 0


def _add_transfer54(sub: argparse._SubParsersAction) -> None:
    t54 = sub.add_parser("transfer54", help="the 54-field transfer dataset: validate, convert to and from FHIR")
    cmds = t54.add_subparsers(dest="t54_command", required=True)
    v = cmds.add_parser("validate", help="check records; prints 'FILE: valid' or every problem on stderr")
    v.add_argument("files", nargs="+", metavar="FILE", help="JSON record files ('-' = standard input)")
    v.add_argument("--xml", action="store_true", help="the files are in the XML form")
    v.set_defaults(func=_t54_validate)
    t = cmds.add_parser("to-fhir", help="print the FHIR transaction Bundle of a record")
    t.add_argument("file", metavar="FILE", help="JSON record file, or '-' for standard input")
    t.add_argument("--xml", action="store_true", help="the input is in the XML form")
    t.set_defaults(func=_t54_to_fhir)
    f = cmds.add_parser("from-fhir", help="print the record a FHIR Bundle carries")
    f.add_argument("file", metavar="FILE", help="Bundle JSON file, or '-' for standard input")
    f.add_argument("--xml", action="store_true", help="print the XML form instead of JSON")
    f.set_defaults(func=_t54_from_fhir)


# ----------------------------------------------------------------------------- bhyt
# Problems are printed as "FILE: HOSO n (MA_LK x): reason", one line per reason.

def _out_line(data: bytes) -> None:
    """One NDJSON line on stdout (through its binary buffer when it has one)."""
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(data.decode("utf-8") + "\n")
        return
    buffer.write(data + b"\n")


def _bhyt_to_fhir(args: argparse.Namespace) -> int:
    from mappings.bhyt_xml.envelope import EnvelopeError, read_envelope

    from .imports.episodes import EpisodeFailed, insurance_bundle

    label = _label(args.file)
    if args.file == "-":
        source = getattr(sys.stdin, "buffer", None)
        if source is None:
            print(f"{label}: standard input cannot be read as bytes", file=sys.stderr)
            return 1
    else:
        try:
            source = open(args.file, "rb")  # noqa: SIM115 - closed below, the reader streams from it
        except OSError as exc:
            print(f"{label}: cannot read the file: {exc.strerror or exc}", file=sys.stderr)
            return 1
    broken = 0
    sys.stdout.flush()
    try:
        for result in read_envelope(source):
            warnings: list[str] = []
            try:
                bundle = insurance_bundle(result, strict=args.strict, warnings=warnings)
            except EpisodeFailed as exc:
                broken += 1
                for reason in exc.reasons:
                    print(f"{label}: HOSO {result.position} (MA_LK {result.ma_lk or '?'}): {reason}", file=sys.stderr)
                continue
            for warning in warnings:
                print(f"{label}: HOSO {result.position} (MA_LK {result.ma_lk or '?'}): warning: {warning}", file=sys.stderr)
            _out_line(jsonio.dumps(bundle))
    except EnvelopeError as exc:
        print(f"{label}: not a readable insurance envelope: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{label}: cannot read: {exc}", file=sys.stderr)
        return 1
    finally:
        getattr(sys.stdout, "buffer", sys.stdout).flush()
        if args.file != "-":
            source.close()
    return 1 if broken else 0


def _ndjson_bundles(data: bytes) -> list[tuple[int, object]]:
    """(line, value) of each non-blank NDJSON line; one pretty-printed Bundle is accepted too."""
    try:
        whole = jsonio.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        pass
    else:
        return [(1, whole)]
    out: list[tuple[int, object]] = []
    problems: list = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((n, jsonio.loads(line)))
        except UnicodeDecodeError as exc:
            problems.append(_problem(f"line {n}: not UTF-8: {exc}", "bad-json"))
        except (ValueError, RecursionError) as exc:
            problems.append(_problem(f"line {n}: not valid JSON: {exc}", "bad-json"))
    if problems:
        raise _Failed(problems)
    return out


def _bhyt_from_fhir(args: argparse.Namespace) -> int:
    from mappings.bhyt_xml.fhir import from_fhir
    from mappings.bhyt_xml.writer import write_envelope

    from .fhir.operations.bhyt import envelope_header

    try:
        values = _ndjson_bundles(_read(args.file))
        if not values:
            raise _Failed([_problem("no Bundle in the input (expected one transaction Bundle per line)", "not-a-bundle")])
        episodes, problems = [], []
        for n, value in values:
            if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
                problems.append(_problem(f"line {n}: not a FHIR Bundle (a JSON object with resourceType \"Bundle\")", "not-a-bundle"))
                continue
            try:
                episodes.append(from_fhir(value, args.standard))
            except Exception as exc:  # any defect of the bundle's shape surfaces here
                why = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__} {exc}"
                problems.append(_problem(f"line {n}: the Bundle cannot be read as an insurance episode: {why}", "bad-bundle"))
        if problems:
            raise _Failed(problems)
        try:
            out = write_envelope(envelope_header(episodes), episodes, args.standard)
        except (ValueError, TypeError) as exc:
            raise _Failed([_problem(f"the envelope cannot be written: {exc}", "bad-bundle")]) from None
    except _Failed as failed:
        _report(args.file, failed.problems)
        return 1
    _emit(out)
    return 0


def _add_bhyt(sub: argparse._SubParsersAction) -> None:
    bhyt = sub.add_parser("bhyt", help="insurance XML tables (GIAMDINHHS envelopes, standards 130, 3176 and 4210) to and from FHIR")
    cmds = bhyt.add_subparsers(dest="bhyt_command", required=True)
    t = cmds.add_parser("to-fhir", help="print one transaction Bundle per episode (NDJSON); broken episodes on stderr, exit 1")
    t.add_argument("file", metavar="FILE", help="envelope file, or '-' for standard input")
    t.add_argument("--strict", action="store_true", help="refuse the departures otherwise converted with a warning on stderr")
    t.set_defaults(func=_bhyt_to_fhir)
    f = cmds.add_parser("from-fhir", help="print the envelope of the episodes in NDJSON transaction Bundles")
    f.add_argument("file", metavar="FILE", help="NDJSON file (one Bundle per line), or '-' for standard input")
    f.add_argument("--standard", choices=list(STANDARDS), default=None, help="write in this standard (default: each episode's own)")
    f.set_defaults(func=_bhyt_from_fhir)


# ----------------------------------------------------------------------------- import

def _import(args: argparse.Namespace) -> int:
    from datetime import datetime

    from rich.console import Console

    from .imports.discovery import MissingPath, check_paths, discover
    from .imports.progress import BarProgress
    from .imports.quarantine import Quarantine, default_folder
    from .imports.run import ImportRun
    from .imports.targets import ServerTarget, StoreTarget, TargetUnavailable

    try:
        paths = check_paths(args.paths)
    except MissingPath as exc:
        print(f"lienthong import: {exc}", file=sys.stderr)
        return 2
    started = datetime.now().astimezone()
    folder = Path(args.quarantine) if args.quarantine else default_folder(started)
    files = list(discover(paths, exclude=folder))
    token = args.token or os.environ.get("LIENTHONG_TOKEN")
    target = ServerTarget(args.server, token=token) if args.server else StoreTarget(args.store)
    if args.workers < 0:
        print("lienthong import: --workers takes 0 or more", file=sys.stderr)
        return 2
    run = ImportRun(target, Quarantine(folder), BarProgress(Console(stderr=True)), workers=args.workers, strict=args.strict)

    async def go():  # noqa: ANN202
        await target.open()
        try:
            report = await run.run(files)
            if isinstance(target, StoreTarget):  # through --server, the server audits each request itself
                await _audit_import(target, [str(p) for p in paths], report)
            return report
        finally:
            await target.close()

    try:
        report = asyncio.run(go())
    except TargetUnavailable as exc:
        print(f"lienthong import: {exc}", file=sys.stderr)
        return 2
    report.render(Console(file=sys.stdout, highlight=False, soft_wrap=True))
    if args.report:
        out = Path(args.report)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(jsonio.dumps(report.to_json(), pretty=True))
    return 0 if report.ok else 1


async def _audit_import(target, paths: list[str], report) -> None:  # type: ignore[no-untyped-def]
    """One AuditEvent for an import straight into a store, in that store."""
    import getpass

    from .audit.events import import_event
    from .audit.trail import AuditTrail

    repo = target.repo
    event = import_event(operator=getpass.getuser(), target=target.description, paths=paths,
                         episodes=report.to_json()["episodes"], ok=report.ok)
    trail = AuditTrail(repo.store, repo.prepare)
    await repo.store.atomic(lambda tx: trail.write_in(tx, event))


def _migrate(args: argparse.Namespace) -> int:
    import getpass

    from rich.console import Console
    from rich.progress import Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from .audit.events import migration_event
    from .audit.trail import AuditTrail
    from .fhir.migrate import migrate
    from .fhir.repository import Repository
    from .storage.mongo.store import redact_url

    settings = Settings.from_env()
    url = args.store or settings.store_url

    async def go():  # type: ignore[no-untyped-def]
        store = make_store(url)
        await store.open()
        try:
            repo = Repository(store, settings)
            err = Console(stderr=True)
            columns = (TextColumn("{task.description}", style="bold"), TextColumn("{task.completed} resources"), TimeElapsedColumn())
            with Progress(*columns, console=err, disable=not err.is_terminal) as bar:  # a terminal only, as import's
                task = bar.add_task("migrating", total=None)
                report = await migrate(repo, lambda type_, n: bar.update(task, advance=n, description=type_))
            totals = {k: sum(v.values()) for k, v in report.to_json().items()}
            event = migration_event(operator=getpass.getuser(), target=redact_url(url), counts=totals)
            trail = AuditTrail(store, repo.prepare)
            await store.atomic(lambda tx: trail.write_in(tx, event))
            return report
        finally:
            await store.close()

    report = asyncio.run(go())
    data = report.to_json()
    table = Table(title=f"lienthong migrate — {redact_url(url)}")
    for col in ("type", "resources", "identifier systems rewritten (new version)", "index rebuilt", "skipped (changed meanwhile)"):
        table.add_column(col, justify="left" if col == "type" else "right")
    for type_ in sorted(data["scanned"]):
        table.add_row(type_, *(str(data[k].get(type_, 0)) for k in ("scanned", "rewritten", "reindexed", "skipped")))
    table.add_row("all", *(str(sum(data[k].values())) for k in ("scanned", "rewritten", "reindexed", "skipped")))
    Console(file=sys.stdout, highlight=False, soft_wrap=True).print(table)
    if sum(data["skipped"].values()):
        print("Some resources changed while this ran: run lienthong migrate again.")
    if args.report:
        Path(args.report).write_bytes(jsonio.dumps(data, pretty=True))
    return 0


def _add_migrate(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser("migrate", help="bring stored data up to the current rules (identifier systems, search index); safe to run again",
                       description="Rewrites identifier systems this project used to write where VN Core has its own (a new version "
                       "of each resource concerned) and rebuilds the search index of every other resource in place.")
    m.add_argument("--store", default=None, help=f"store URL (default: $LIENTHONG_STORE or {DEFAULT_STORE})")
    m.add_argument("--report", default=None, metavar="FILE", help="also write the counts as JSON")
    m.set_defaults(func=_migrate)


def _add_import(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser(
        "import",
        help="import files and folders of insurance envelopes and transfer records, each episode atomically",
        description="Files are recognised by content: GIAMDINHHS envelopes, transfer records (JSON or XML); "
        "anything else is reported as skipped. Exit status: 0 every file imported whole, 1 some episode failed "
        "or some file was skipped or unreadable, 2 usage error.",
    )
    imp.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (read recursively)")
    where = imp.add_mutually_exclusive_group()
    where.add_argument("--store", default=None, help=f"store URL (default: $LIENTHONG_STORE or {DEFAULT_STORE}), written in-process")
    where.add_argument("--server", default=None, metavar="URL", help="FHIR base URL of a running server (http://host:8080/fhir)")
    imp.add_argument("--strict", action="store_true",
                     help="refuse the departures real files carry that are otherwise imported with a warning (see the README's import policy)")
    imp.add_argument("--token", default=None, help="with --server: the bearer access token (default: $LIENTHONG_TOKEN; get one with 'lienthong token' or the token endpoint)")
    imp.add_argument("--report", metavar="FILE.json", default=None, help="also write the report as JSON")
    imp.add_argument("--quarantine", metavar="DIR", default=None, help="where failed episodes are copied (default: ./quarantine/<run time>/)")
    imp.add_argument("--workers", type=int, default=0, metavar="N",
                     help="with --store: N worker processes validate the next episodes while one is stored "
                          "(about 2x faster on 2 cores; each worker adds ~100 MB of memory; default 0)")
    imp.set_defaults(func=_import)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lienthong", description="Liên Thông: FHIR R4 interoperability server for Vietnamese health data")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the FHIR server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--store", default=None, help=f"sqlite:///path.db or mongodb://… (default: $LIENTHONG_STORE or {DEFAULT_STORE})")
    serve.add_argument("--load-examples", metavar="DIR", default=None, help="load the examples in DIR at start-up into an empty store (a store holding resources is left as it is)")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--require-profiles", action="store_true", help="writes of the core types must conform to a Vietnamese core profile (or $LIENTHONG_REQUIRE_PROFILES=1)")
    serve.add_argument("--security-checks", action="store_true", help="refuse strings and markdown that look like embedded HTML tags (or $LIENTHONG_SECURITY_CHECKS=1)")
    serve.add_argument("--search-handling", choices=("strict", "lenient"), default=None,
                       help="unknown or unsupported search parameters: refused with 400 (strict, the default) or ignored and reported (lenient); $LIENTHONG_SEARCH_HANDLING; a request's 'Prefer: handling=' overrides it")
    serve.add_argument("--no-integrity-on-write", action="store_true", help="accept local references to resources that do not exist, for bulk loads (or $LIENTHONG_INTEGRITY_ON_WRITE=0)")
    serve.add_argument("--no-integrity-on-delete", action="store_true", help="delete resources that others still refer to (or $LIENTHONG_INTEGRITY_ON_DELETE=0)")
    serve.add_argument("--auth", choices=("on", "off"), default=None, help="bearer tokens on /fhir (default on; $LIENTHONG_AUTH); off only on a loopback address")
    serve.add_argument("--cors-origin", action="append", metavar="ORIGIN", help="allow this browser origin (repeatable; default: CORS off; $LIENTHONG_CORS_ORIGINS)")
    serve.add_argument("--dev-admin", action="store_true", help="on the first start (no local accounts yet), create a development admin and print its password")
    serve.add_argument("--workers", type=int, default=None, metavar="N",
                       help=f"worker processes sharing the port (default: the number of cores, here {os.cpu_count() or 1}); "
                            "each has its own event loop and store connections")
    serve.set_defaults(func=_serve)
    _add_transfer54(sub)
    _add_bhyt(sub)
    _add_import(sub)
    _add_migrate(sub)
    add_auth_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
