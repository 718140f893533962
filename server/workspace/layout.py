"""The frame every workspace page shares: title, navigation, language switch, sign-out form.

Pages build their bodies as HTML strings; every value from data goes through :func:`h`
(``html.escape``), once, where it is put into the page. The stylesheet is the only asset;
no script runs (the CSP says so).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from .i18n import text

#: the workspace's Content-Security-Policy: its own stylesheet, inline SVG, forms to itself
CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def h(value: Any) -> str:
    """``value`` as text safe inside HTML (elements and quoted attributes)."""
    return escape("" if value is None else str(value), quote=True)


@cache
def asset(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


@cache
def asset_url(name: str) -> str:
    """The asset's URL with a content hash, so it can be cached for long and changes when it does."""
    return f"/app/static/{name}?v={hashlib.sha256(asset(name)).hexdigest()[:10]}"


@dataclass
class Frame:
    """What the frame needs to know about the request."""

    lang: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    user: str | None = None
    csrf: str | None = None

    def t(self, key: str, **values: object) -> str:
        """The word, escaped for HTML."""
        return h(text(key, self.lang, **values))

    def word(self, key: str, **values: object) -> str:
        """The word as plain text (for titles, which :func:`page` escapes)."""
        return text(key, self.lang, **values)

    def switch_url(self) -> str:
        other = "en" if self.lang == "vi" else "vi"
        query = [(k, v) for k, v in self.query if k != "lang"] + [("lang", other)]
        return f"{self.path}?{urlencode(query)}"


def page(frame: Frame, title: str, body: str, *, active: str | None = None, styles: tuple[str, ...] = ()) -> str:
    """A whole page: ``title`` (plain text) and ``body`` (HTML the caller escaped)."""
    nav = ""
    if frame.user:
        current = ' aria-current="page"'
        links = "".join(
            f'<a href="{href}"{current if key == active else ""}>{frame.t(key)}</a>'
            for key, href in (("find", "/app/"), ("tools", "/app/tools"))
        )
        nav = (
            f'<nav aria-label="{frame.t("app")}">{links}</nav>'
            f'<div class="who"><span>{frame.t("signed_in_as")} <b>{h(frame.user)}</b></span>'
            f'<form method="post" action="/app/logout"><input type="hidden" name="csrf" value="{h(frame.csrf)}">'
            f'<button type="submit" class="link">{frame.t("signout")}</button></form></div>'
        )
    sheets = "".join(f'<link rel="stylesheet" href="{h(asset_url(s))}">' for s in ("app.css", *styles))
    return (
        f'<!doctype html>\n<html lang="{frame.lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="referrer" content="no-referrer">\n'
        f"<title>{h(title)} — Liên Thông</title>\n{sheets}\n</head>\n<body>\n"
        f'<a class="skip" href="#main">{frame.t("skip")}</a>\n'
        f'<header class="top"><a class="brand" href="/app/">Liên Thông</a>{nav}'
        f'<a class="lang" href="{h(frame.switch_url())}" hreflang="{"en" if frame.lang == "vi" else "vi"}">{frame.t("lang_switch")}</a></header>\n'
        f'<main id="main" tabindex="-1">\n{body}\n</main>\n</body>\n</html>\n'
    )


def message(frame: Frame, title: str, text_html: str, *, link: tuple[str, str] | None = None, error: bool = False) -> str:
    """A page that only says something (signed out, not found, a sign-in that failed)."""
    more = f'<p><a href="{h(link[0])}">{h(link[1])}</a></p>' if link else ""
    cls = ' class="alert"' if error else ""
    return page(frame, title, f"<h1>{h(title)}</h1>\n<p{cls} role=\"{'alert' if error else 'status'}\">{text_html}</p>{more}")
