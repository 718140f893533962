"""``lienthong clients``, ``lienthong users`` and ``lienthong token``: the operator's side of access control.

Each command opens the store named by ``--store`` (default: ``$LIENTHONG_STORE``), does one
thing and closes it. Problems are one line on stderr and exit status 2; what a script wants
(a token, a generated password) is the only thing on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable

from ..config import DEFAULT_STORE, Settings
from ..storage.base import Store, StoreConfigError
from ..storage.factory import opened
from . import clients, users
from .scopes import ScopeError, narrow, parse_scopes
from .tokens import Principal, issue


class _Refused(Exception):
    """The command cannot do what was asked; the message says why."""


def _fail(message: str) -> int:
    print(f"lienthong: {message}", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace, work: Callable[[Store], Awaitable[int]]) -> int:
    url = args.store or Settings.from_env().store_url

    async def main() -> int:
        async with opened(url) as store:
            return await work(store)

    try:
        return asyncio.run(main())
    except (clients.ClientError, users.UserError, _Refused) as err:
        return _fail(str(err))
    except (StoreConfigError, ValueError, OSError) as err:
        return _fail(f"cannot use store {url}: {err}")


# ----------------------------------------------------------------------------- clients


def _read_jwks(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise _Refused(f"cannot read the JWKS file {path}: {err.strerror or err}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _Refused(f"the JWKS file {path} is not JSON: {err}") from None


def clients_add(args: argparse.Namespace) -> int:
    if bool(args.jwks) == bool(args.redirect_uri):
        return _fail("give either --jwks FILE (a backend service) or --redirect-uri URI (an app that signs people in), not both")
    if args.facility and not args.jwks:
        return _fail("--facility is for backend services (--jwks)")

    async def work(store: Store) -> int:
        if args.jwks:
            client = await clients.add_backend(store, args.id, _read_jwks(args.jwks), args.scope, args.facility)
            kids = ", ".join(k["kid"] for k in (client.jwks or {})["keys"])
            where = f"; facilities {', '.join(client.facilities)}" if client.facilities else "; all facilities"
            print(f"registered backend client {client.id} (keys {kids}; scope {client.scope}{where})", file=sys.stderr)
        else:
            client = await clients.add_public(store, args.id, args.redirect_uri, args.scope)
            print(f"registered public client {client.id} (redirect URIs {', '.join(client.redirect_uris)}; scope {client.scope})", file=sys.stderr)
        return 0

    return _run(args, work)


def clients_list(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        for c in await clients.list_clients(store):
            if c.kind == "backend":
                kids = ",".join(k["kid"] for k in (c.jwks or {}).get("keys", []))
                what = f"keys={kids}\tfacilities={','.join(c.facilities) if c.facilities is not None else '*'}"
            else:
                what = f"redirect_uris={' '.join(c.redirect_uris)}"
            print(f"{c.id}\t{c.kind}\tscope={c.scope}\t{what}")
        return 0

    return _run(args, work)


def clients_remove(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        if not await clients.remove_client(store, args.id):
            raise _Refused(f"no client {args.id!r}")
        print(f"removed client {args.id} (access tokens it holds stay valid until they expire)", file=sys.stderr)
        return 0

    return _run(args, work)


# ----------------------------------------------------------------------------- users


def users_add(args: argparse.Namespace) -> int:
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            return _fail("--password-stdin: standard input has no password")

    async def work(store: Store) -> int:
        generated = await users.add_user(store, args.name, args.role, password, args.fhir_user)
        print(f"saved user {args.name} (role {args.role}" + (f", fhirUser {args.fhir_user})" if args.fhir_user else ")"), file=sys.stderr)
        if generated is not None:
            print("password (shown once, keep it now):", file=sys.stderr)
            print(generated)
        return 0

    return _run(args, work)


def users_list(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        for u in await users.list_users(store):
            print(f"{u.name}\t{u.role}\t{u.fhir_user or '-'}\t{u.created}")
        return 0

    return _run(args, work)


def users_remove(args: argparse.Namespace) -> int:
    async def work(store: Store) -> int:
        if not await users.remove_user(store, args.name):
            raise _Refused(f"no user {args.name!r}")
        print(f"removed user {args.name} (its sessions end at their next refresh; access tokens expire on their own)", file=sys.stderr)
        return 0

    return _run(args, work)


# ----------------------------------------------------------------------------- token


def token(args: argparse.Namespace) -> int:
    settings = Settings.from_env(store_url=args.store)
    try:
        grants, others = parse_scopes(args.scope)
    except ScopeError as err:
        return _fail(str(err))
    if not grants:
        return _fail(f"--scope {args.scope!r} has no resource scope (e.g. system/*.rs, user/*.cruds)")
    if any(g.context == "patient" for g in grants) and not args.patient:
        return _fail("patient/ scopes need the patient in context: --patient ID")
    if args.ttl is not None and args.ttl <= 0:
        return _fail("--ttl must be a positive number of seconds")

    async def work(store: Store) -> int:
        principal = Principal(scope=" ".join(args.scope.split()), client_id="operator", patient=args.patient)
        if args.user:
            user = await users.get_user(store, args.user)
            if user is None:
                raise _Refused(f"no local account {args.user!r} (see 'lienthong users list')")
            allowed = users.within_role(user.role, narrow(grants, users.allowed_grants(user.role)))
            if not allowed:
                raise _Refused(f"role {user.role} allows none of {args.scope!r} (it allows {users.ROLE_SCOPES[user.role]})")
            scope = " ".join([g.text for g in allowed] + others)
            if set(allowed) != set(grants):
                print(f"note: narrowed to what role {user.role} allows: {scope}", file=sys.stderr)
            principal = Principal(scope=scope, client_id="operator", user=user.name, role=user.role, patient=args.patient, fhir_user=user.fhir_user)
        jwt, claims = await issue(store, settings, principal, args.ttl)
        print(jwt)
        print(f"expires in {claims['exp'] - claims['iat']} s; subject {claims['sub']}; scope {claims['scope']}", file=sys.stderr)
        return 0

    return _run(argparse.Namespace(store=settings.store_url), work)


# ----------------------------------------------------------------------------- parser


def add_auth_commands(sub: argparse._SubParsersAction) -> None:
    """``clients``, ``users`` and ``token`` on the ``lienthong`` parser."""
    store_help = f"sqlite:///path.db or mongodb://… (default: $LIENTHONG_STORE or {DEFAULT_STORE})"

    cl = sub.add_parser("clients", help="register the systems and apps allowed to ask for tokens")
    cmds = cl.add_subparsers(dest="clients_command", required=True)
    a = cmds.add_parser("add", help="register (or replace) a client",
                        description="A backend service (SMART Backend Services: --jwks with its RS384/ES384 public keys) "
                                    "or an app that signs people in (authorization code + PKCE: --redirect-uri).")
    a.add_argument("id", metavar="ID", help="the client_id")
    a.add_argument("--jwks", metavar="FILE", help="the client's PUBLIC keys as a JWKS (RS384 or ES384, each with a kid)")
    a.add_argument("--redirect-uri", action="append", metavar="URI", help="exact redirect URI of a public app (repeatable)")
    a.add_argument("--scope", required=True, help='the most this client may ask for, e.g. "system/*.cruds" or "patient/*.rs user/*.rs openid fhirUser launch/patient offline_access"')
    a.add_argument("--facility", action="append", metavar="MACSKCB", help="with --jwks: a facility this client may write for (repeatable; default: any)")
    a.add_argument("--store", default=None, help=store_help)
    a.set_defaults(func=clients_add)
    ls = cmds.add_parser("list", help="list the registered clients")
    ls.add_argument("--store", default=None, help=store_help)
    ls.set_defaults(func=clients_list)
    rm = cmds.add_parser("remove", help="remove a client (no new tokens; issued ones expire)")
    rm.add_argument("id", metavar="ID")
    rm.add_argument("--store", default=None, help=store_help)
    rm.set_defaults(func=clients_remove)

    us = sub.add_parser("users", help="local accounts for the sign-in page")
    cmds = us.add_subparsers(dest="users_command", required=True)
    a = cmds.add_parser("add", help="create an account, or replace its role and password")
    a.add_argument("name", metavar="NAME")
    a.add_argument("--role", required=True, choices=users.ROLES, help="doctor: patient/*.cruds user/*.cruds; admin: also user/AuditEvent.rs")
    a.add_argument("--password-stdin", action="store_true", help="read the password from the first line of standard input (default: generate one and print it once)")
    a.add_argument("--fhir-user", metavar="REF", help="the person's FHIR resource, e.g. Practitioner/123 (the fhirUser claim)")
    a.add_argument("--store", default=None, help=store_help)
    a.set_defaults(func=users_add)
    ls = cmds.add_parser("list", help="list the accounts (name, role, fhirUser, created)")
    ls.add_argument("--store", default=None, help=store_help)
    ls.set_defaults(func=users_list)
    rm = cmds.add_parser("remove", help="remove an account")
    rm.add_argument("name", metavar="NAME")
    rm.add_argument("--store", default=None, help=store_help)
    rm.set_defaults(func=users_remove)

    tk = sub.add_parser("token", help="print an access token signed with the store's key (scripts, curl, tests)")
    tk.add_argument("--scope", required=True, help='e.g. "system/*.cruds" or "user/*.rs"')
    tk.add_argument("--patient", metavar="ID", default=None, help="the patient in context (for patient/ scopes)")
    tk.add_argument("--user", metavar="NAME", default=None, help="a local account: its role and fhirUser go into the token (default: the operator)")
    tk.add_argument("--ttl", type=int, default=None, metavar="SECONDS", help="lifetime (default: $LIENTHONG_ACCESS_TOKEN_TTL or 900)")
    tk.add_argument("--store", default=None, help=store_help)
    tk.set_defaults(func=token)
