"""The integration tools page: check a transfer record or an envelope field by field, see and
download its FHIR, import it when the token may write, and never a 500 for bad input."""

from __future__ import annotations

import html
import io
import json
import re
from typing import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from mappings.bhyt_xml.envelope import read_envelope
from mappings.bhyt_xml.writer import write_envelope
from mappings.transfer54.xml_form import write_xml
from server import jsonio
from server.app import create_app
from server.config import Settings
from server.fhir.operations.bhyt import envelope_header
from server.imports.episodes import transfer_bundle

from .conftest import EXAMPLES, add_doctor, browser, form_fields, session_for, sign_in

pytestmark = pytest.mark.anyio

RECORD = EXAMPLES / "transfer54" / "record-2.json"
ENVELOPE = EXAMPLES / "bhyt" / "giamdinhhs-4210.xml"


@pytest.fixture
async def writer(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A doctor (who may write) signed in on an empty store."""
    await add_doctor(app)
    async with browser(app) as client:
        assert (await sign_in(client, "bs.lan")).status_code == 303
        yield client


async def csrf_of(client: httpx.AsyncClient) -> str:
    r = await client.get("/app/tools")
    assert r.status_code == 200, r.text
    return form_fields(r.text)["csrf"]


async def check_text(client: httpx.AsyncClient, text: str) -> httpx.Response:
    return await client.post("/app/tools/check", data={"csrf": await csrf_of(client), "text": text})


async def check_file(client: httpx.AsyncClient, data: bytes, name: str = "input.xml") -> httpx.Response:
    return await client.post("/app/tools/check", data={"csrf": await csrf_of(client), "text": ""}, files={"file": (name, data, "application/octet-stream")})


def row_of(page: str, field: str) -> str:
    found = re.search(rf'<tr[^>]*id="f-{field}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {field}"
    return found.group(1)


def hidden_content(page: str, action: str) -> dict[str, str]:
    form = re.search(rf'<form method="post" action="{action}"[^>]*>(.*?)</form>', page, re.S)
    assert form, f"no form posting to {action}"
    return form_fields(form.group(1))


def same_json(value: object) -> object:
    """``value`` as it reads back from JSON (the bundles hold decimals)."""
    return jsonio.loads(jsonio.dumps(value))


def episode_count() -> int:
    return len(read_envelope(io.BytesIO(ENVELOPE.read_bytes())).read_all())


def bad_envelope() -> bytes:
    """The 4210 example with one value that breaks the spec (XML1's NGAY_SINH of the first HOSO)."""
    episodes = read_envelope(io.BytesIO(ENVELOPE.read_bytes())).read_all()
    episodes[0].tables["XML1"][0]["NGAY_SINH"] = "khong-phai-ngay"
    return write_envelope(envelope_header(episodes), episodes, None)


async def test_a_valid_record_shows_its_fields_its_bundle_and_an_import_button(writer: httpx.AsyncClient) -> None:
    r = await check_text(writer, RECORD.read_text(encoding="utf-8"))
    assert r.status_code == 200, r.text
    assert "<title>Kết quả kiểm tra — Công cụ tích hợp — Liên Thông</title>" in r.text
    assert len(re.findall(r'<tr[^>]*id="f-', r.text)) == 54
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    assert record["HO_TEN"] in row_of(r.text, "HO_TEN")
    assert "Không có lỗi." in r.text and 'class="problems"' not in r.text
    shown = html.unescape(re.search(r"<pre>(.*?)</pre>", r.text, re.S).group(1))
    assert jsonio.loads(shown) == same_json(transfer_bundle(record))
    assert 'action="/app/tools/import"' in r.text and 'action="/app/tools/bundle"' in r.text
    assert "style=" not in r.text and "<script" not in r.text and "/app/static/tools.css?v=" in r.text


async def test_problems_sit_next_to_their_field_and_nothing_can_be_imported(writer: httpx.AsyncClient) -> None:
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    record["NGAY_SINH"] = "<script>"
    record["KHONG_CO"] = "x"
    del record["MA_LK"]
    r = await check_file(writer, json.dumps(record).encode(), "record.json")  # an upload, multipart
    assert r.status_code == 200, r.text
    assert "3 lỗi." in r.text
    birth = row_of(r.text, "NGAY_SINH")
    assert "&lt;script&gt;" in birth and "NGAY_SINH (Ngày sinh) must be" in birth and "<script>" not in r.text
    assert "is required" in row_of(r.text, "MA_LK")
    assert 'class="problems"' not in row_of(r.text, "HO_TEN")
    other = r.text.split("Lỗi không gắn với chỉ tiêu nào", 1)[1].split("<table", 1)[0]
    assert "KHONG_CO" in other
    assert "/app/tools/import" not in r.text and "<pre>" not in r.text


async def test_the_xml_form_of_a_record_is_detected(writer: httpx.AsyncClient) -> None:
    xml = write_xml(json.loads(RECORD.read_text(encoding="utf-8")))
    r = await check_file(writer, xml, "record.xml")
    assert r.status_code == 200, r.text
    assert "Giấy chuyển tuyến (54 chỉ tiêu), dạng XML" in r.text and "Không có lỗi." in r.text


async def test_an_envelope_is_checked_per_episode_table_and_field(writer: httpx.AsyncClient) -> None:
    r = await check_file(writer, bad_envelope())
    assert r.status_code == 200, r.text
    episodes = re.findall(r'<section class="card episode">(.*?)</section>', r.text, re.S)
    assert len(episodes) == episode_count() > 1
    first = episodes[0]
    assert "Không chuyển được sang FHIR." in first and "<pre>" not in first
    row = re.search(r'<tr class="bad">(.*?)</tr>', first, re.S).group(1)
    assert ">XML1<" in row and ">1<" in row and "<code>NGAY_SINH</code>" in row and "khong-phai-ngay" in row
    assert all("Chuyển được sang FHIR." in e and "<pre>" in e for e in episodes[1:])
    assert 'action="/app/tools/import"' in r.text  # the others can be imported


async def test_bad_input_is_a_clear_message_never_a_500(writer: httpx.AsyncClient) -> None:
    for text, says in (
        ("xin chào", "neither JSON nor XML"),
        ("<html><body/></html>", "root element is &lt;html&gt;"),
        ('{"resourceType": "Patient"}', "FHIR Patient resource"),
        ("{not json", "not a JSON record"),
        ("<GIAMDINHHS><THONGTINHOSO>", "not a readable GIAMDINHHS envelope"),
        ("", "Nothing was given"),
    ):
        r = await check_text(writer, text)
        assert r.status_code == 422, (text, r.status_code)
        assert "Không kiểm tra được nội dung này" in r.text and says in r.text, text


async def test_a_body_beyond_the_limit_is_refused_with_a_page(store) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(max_request_bytes=4096), store)
    try:
        await add_doctor(app)
        async with browser(app) as client:
            assert (await sign_in(client, "bs.lan")).status_code == 303
            r = await check_file(client, b"<GIAMDINHHS>" + b" " * 10_000 + b"</GIAMDINHHS>")
            assert r.status_code == 413
            assert r.headers["content-type"].startswith("text/html") and "4096" in r.text
    finally:
        await app.state.audit.stop()


async def test_forms_need_the_session_csrf_token(writer: httpx.AsyncClient) -> None:
    for csrf in (None, "wrong"):
        data = {"text": RECORD.read_text(encoding="utf-8"), **({"csrf": csrf} if csrf else {})}
        r = await writer.post("/app/tools/check", data=data)
        assert r.status_code == 403 and "<pre>" not in r.text
        r = await writer.post("/app/tools/import", data={"content": "", **({"csrf": csrf} if csrf else {})})
        assert r.status_code == 403


async def test_download_gives_the_bundle_as_a_file(writer: httpx.AsyncClient) -> None:
    r = await check_text(writer, RECORD.read_text(encoding="utf-8"))
    r = await writer.post("/app/tools/bundle", data=hidden_content(r.text, "/app/tools/bundle"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/fhir+json")
    assert r.headers["content-disposition"].startswith("attachment")
    assert jsonio.loads(r.content) == same_json(transfer_bundle(json.loads(RECORD.read_text(encoding="utf-8"))))


async def test_import_a_record_then_again(writer: httpx.AsyncClient) -> None:
    checked = await check_text(writer, RECORD.read_text(encoding="utf-8"))
    form = hidden_content(checked.text, "/app/tools/import")
    r = await writer.post("/app/tools/import", data=form)
    assert r.status_code == 200, r.text
    assert r.text.count("Đã tạo") == 12  # every resource of the record's transaction
    patient = re.search(r'<code>Patient/([^<]+)</code>.*?<a href="/app/patient/([^"]+)"', r.text, re.S)
    assert patient and patient.group(1) == patient.group(2)
    assert (await writer.get(f"/app/patient/{patient.group(2)}")).status_code == 200
    again = await writer.post("/app/tools/import", data=form)
    assert again.status_code == 200 and "Đã tạo" not in again.text and again.text.count("Đã cập nhật hoặc đã có") == 12


async def test_import_an_envelope_links_each_episode_to_its_patient(writer: httpx.AsyncClient) -> None:
    checked = await check_file(writer, ENVELOPE.read_bytes())
    r = await writer.post("/app/tools/import", data=hidden_content(checked.text, "/app/tools/import"))
    assert r.status_code == 200, r.text
    rows = re.findall(r"<tr><th scope=\"row\"><code>Encounter/[^<]+</code>.*?</tr>", r.text, re.S)
    assert len(rows) == episode_count() and all("Đã tạo" in row and 'href="/app/patient/' in row for row in rows)


async def test_a_read_only_token_sees_no_import_and_cannot_post_one(examples: FastAPI) -> None:
    async with browser(examples) as client:
        await session_for(examples, client, "user/*.rs", user="bs.chi", role="doctor")
        checked = await check_text(client, RECORD.read_text(encoding="utf-8"))
        assert checked.status_code == 200
        assert "/app/tools/import" not in checked.text and "Token của bạn không được ghi" in checked.text
        form = hidden_content(checked.text, "/app/tools/bundle")  # the same fields an import form would carry
        r = await client.post("/app/tools/import", data=form)
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
        assert "Không có quyền" in r.text


async def test_the_page_speaks_english_when_asked(writer: httpx.AsyncClient) -> None:
    r = await writer.get("/app/tools", params={"lang": "en"})
    assert r.status_code == 200 and "<title>Integration tools — Liên Thông</title>" in r.text
    assert '<html lang="en">' in r.text and 'enctype="multipart/form-data"' in r.text
    r = await check_file(writer, bad_envelope())  # the language is remembered in a cookie
    assert "Insurance envelope (GIAMDINHHS)" in r.text and "Cannot be mapped to FHIR." in r.text and "Maps to FHIR." in r.text
    r = await check_text(writer, RECORD.read_text(encoding="utf-8"))
    assert "Transfer record (54 fields), JSON form" in r.text and "No problems found." in r.text
