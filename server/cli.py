"""The ``lienthong`` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from .config import DEFAULT_STORE, Settings
from .storage.base import StoreConfigError
from .storage.factory import make_store


async def _check_store(url: str) -> None:
    store = make_store(url)
    await store.open()
    await store.close()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    settings = Settings.from_env(store_url=args.store)
    try:
        asyncio.run(_check_store(settings.store_url))
    except (StoreConfigError, ValueError) as exc:
        print(f"lienthong: cannot use store {settings.store_url}: {exc}", file=sys.stderr)
        return 2
    examples = Path(args.load_examples) if args.load_examples else None
    app = create_app(settings, examples=examples)
    print(f"Liên Thông FHIR server on http://{args.host}:{args.port}/fhir (store: {settings.store_url})", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lienthong", description="Liên Thông: FHIR R4 interoperability server for Vietnamese health data")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the FHIR server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--store", default=None, help=f"sqlite:///path.db or mongodb://… (default: $LIENTHONG_STORE or {DEFAULT_STORE})")
    serve.add_argument("--load-examples", metavar="DIR", default=None, help="load the example bundles in DIR at start-up")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
