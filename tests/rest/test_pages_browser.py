"""The landing page and the API documentation page in a real browser (headless Chromium).

Runs against `lienthong serve` over TCP, with nothing from the internet: the pages must render
from the server alone. Screenshots (desktop and 360 px) go to ``$LIENTHONG_SCREENSHOTS`` when
set, to be looked at. Chromium is Debian's (``.ci/run`` installs it); without it the test fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.support.live_server import live_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_the_landing_page_and_the_api_documentation_render_offline(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("LIENTHONG_SCREENSHOTS") or tmp_path)
    with live_server(f"sqlite:///{tmp_path / 'pages.db'}") as root, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            foreign: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(root) else None)
            failed: list[str] = []
            page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

            page.goto(f"{root}/")
            links = page.eval_on_selector_all("a", "els => els.map(a => a.getAttribute('href'))")
            assert "/fhir/metadata" in links and any(h.endswith("/fhir/docs") for h in links), links
            page.screenshot(path=str(shots / "landing-desktop.png"), full_page=True)

            page.goto(f"{root}/fhir/docs")
            page.wait_for_selector("details.op", state="attached", timeout=20_000)  # the page's CSP allows no eval: no wait_for_function
            operations = page.eval_on_selector_all("details.op", "els => els.length")
            assert operations > 100
            page.fill("#filter", "Patient/{id}/$everything")
            shown = page.eval_on_selector_all("details.op", "els => els.filter(e => e.style.display !== 'none').length")
            assert 1 <= shown < operations
            page.fill("#filter", "")
            page.screenshot(path=str(shots / "api-docs-desktop.png"))
            page.set_viewport_size({"width": 360, "height": 780})
            page.goto(f"{root}/")
            page.screenshot(path=str(shots / "landing-360.png"), full_page=True)
            assert failed == [] and errors == [], (failed, errors)
            assert foreign == [], foreign  # nothing from outside the server
        finally:
            browser.close()
