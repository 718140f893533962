"""The workspace end to end in a real browser (headless Chromium), on the examples.

A doctor signs in, finds a patient by citizen id, opens the record, the transfer paper and its
print view, a record with trend charts and one of its episodes, checks and imports a transfer
record on the integration page, and signs out; at a phone's width (360 px) and on a desktop. Runs against
``lienthong serve --load-examples`` over TCP. Screenshots go to ``$LIENTHONG_SCREENSHOTS`` when
set (``docs/screenshots/`` holds the ones looked at). Chromium is Debian's (``.ci/run``
installs it); without it this test fails rather than being skipped.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from tests.support.live_server import ROOT, cli, live_server

from .conftest import CCCD, PASSWORD

#: examples/core/patient-bundle-trends.json: repeated tests and vital signs over two years
TRENDS_CCCD = "001085012345"
#: examples/transfer54/record-2.json with a birth date and a gender that break the dataset's rules
BROKEN_RECORD = json.dumps({**json.loads((ROOT / "examples" / "transfer54" / "record-2.json").read_text(encoding="utf-8")),
                            "NGAY_SINH": "31-02-2008", "GIOI_TINH": "7"}, ensure_ascii=False)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def _fits(page: Any) -> bool:
    """No sideways scrolling of the page."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _watch(page: Any, root: str) -> tuple[list[str], list[str]]:
    """Console errors and requests that left the server (there must be none of either)."""
    errors: list[str] = []
    foreign: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(root) else None)
    return errors, foreign


def test_a_doctor_reads_a_transferred_patient_and_prints_the_transfer_paper(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    added = cli("users", "add", "bs.lan", "--role", "doctor", "--password-stdin", "--store", url, stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    shots = Path(os.environ.get("LIENTHONG_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with live_server(url, "--load-examples", str(ROOT / "examples")) as root, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for width, suffix in ((1280, "desktop"), (360, "360")):
                page = browser.new_page(viewport={"width": width, "height": 900})
                errors, foreign = _watch(page, root)

                # signed out: the workspace sends to the sign-in form
                page.goto(f"{root}/app/")
                assert "Đăng nhập" in page.title()
                page.fill("#username", "bs.lan")
                page.fill("#password", PASSWORD)
                page.click("button[value=login]")
                page.wait_for_url(f"{root}/app/")
                assert page.title().startswith("Tìm bệnh nhân")

                # search by CCCD, by keyboard (the search field has the focus)
                assert page.evaluate("document.activeElement.id") == "q"
                page.keyboard.type(CCCD)
                page.keyboard.press("Enter")
                page.wait_for_selector("table.results")
                assert _fits(page)
                page.screenshot(path=str(shots / f"search-{suffix}.png"), full_page=True)
                page.click("table.results a")
                page.wait_for_selector("header.patient")
                assert "Phan Ngọc An" in page.title()
                assert _fits(page), "the patient page scrolls sideways"
                # keyboard: the first Tab reaches the skip link, which leads to the main content
                page.keyboard.press("Tab")
                assert page.evaluate("document.activeElement.className") == "skip"
                page.keyboard.press("Enter")
                assert page.evaluate("document.activeElement.id") == "main"
                page.screenshot(path=str(shots / f"patient-{suffix}.png"), full_page=True)

                # the latest transfer, its paper, its print view
                page.click("a[href*='/transfer/']")
                page.wait_for_selector("article.paper")
                assert "chuyển" in page.title().lower()
                assert _fits(page)
                page.screenshot(path=str(shots / f"transfer-{suffix}.png"), full_page=True)
                page.click("a[href*='print=1']")
                page.wait_for_selector("article.paper")
                page.emulate_media(media="print")
                assert page.eval_on_selector_all("nav, header.top", "els => els.filter(e => e.offsetParent !== null).length") == 0
                page.screenshot(path=str(shots / f"transfer-print-{suffix}.png"), full_page=True)
                page.emulate_media(media="screen")

                # a record with trends: charts of the repeated tests and vital signs, then one episode
                page.goto(f"{root}/app/?q={TRENDS_CCCD}")
                page.click("table.results a")
                page.wait_for_selector("header.patient")
                assert page.eval_on_selector_all("svg[role=img]", "els => els.length") >= 4
                assert _fits(page), "the record with charts scrolls sideways"
                page.screenshot(path=str(shots / f"record-{suffix}.png"))  # the top: who, the timeline
                page.locator(".lab-test").first.screenshot(path=str(shots / f"labs-{suffix}.png"))
                page.locator("section.vitals").screenshot(path=str(shots / f"vitals-{suffix}.png"))
                page.click("header.top a.lang")  # English, remembered until switched back
                page.wait_for_selector("html[lang=en]")
                assert page.title().startswith("Record of Trần Văn Bình")
                page.screenshot(path=str(shots / f"record-en-{suffix}.png"))
                page.click("header.top a.lang")
                page.wait_for_selector("html[lang=vi]")
                page.click("ol.episodes a")
                page.wait_for_selector("main h1")
                assert _fits(page), "the episode page scrolls sideways"
                page.screenshot(path=str(shots / f"episode-{suffix}.png"), full_page=True)

                # the integration tools: upload a transfer record, see it checked, import it
                page.goto(f"{root}/app/tools")
                page.set_input_files("#file", str(ROOT / "examples" / "transfer54" / "record-2.json"))
                page.click("form.tools button[type=submit]")
                page.wait_for_selector("#result")
                assert _fits(page), "the tools page scrolls sideways"
                page.screenshot(path=str(shots / f"tools-{suffix}.png"), full_page=True)
                page.click("form[action='/app/tools/import'] button")
                page.wait_for_selector("a[href^='/app/patient/']")
                # a record with mistakes: each problem beside its field, and nothing to import
                page.goto(f"{root}/app/tools")
                page.fill("#text", BROKEN_RECORD)
                page.click("form.tools button[type=submit]")
                page.wait_for_selector("tr.bad")
                assert page.eval_on_selector_all("tr.bad", "rows => rows.map(r => r.id)") == ["f-NGAY_SINH", "f-GIOI_TINH"]
                assert page.eval_on_selector_all("form[action='/app/tools/import']", "els => els.length") == 0
                assert _fits(page)
                page.screenshot(path=str(shots / f"tools-problems-{suffix}.png"))
                page.click("ul.jump a[href='#f-GIOI_TINH']")  # the list above the table leads to the field's row
                assert page.evaluate("location.hash") == "#f-GIOI_TINH"

                # sign out: the session is gone
                page.goto(f"{root}/app/")
                page.click("header.top .who button")
                page.wait_for_url(f"{root}/app/login?bye=1")
                page.goto(f"{root}/app/")
                assert "Đăng nhập" in page.title()
                assert errors == [] and foreign == [], (errors, foreign)
                page.close()
        finally:
            browser.close()
