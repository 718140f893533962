"""An Attachment's size and hash must match its inline data."""

from __future__ import annotations

import base64
import hashlib

from server.fhir.profiling import validate
from server.fhir.profiling.rules import attachments

NARRATIVE = {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'}
CONTENT = "Kết quả xét nghiệm".encode()
DATA = base64.b64encode(CONTENT).decode()
SHA1 = base64.b64encode(hashlib.sha1(CONTENT).digest()).decode()


def report(**attachment: object) -> dict:
    return {"resourceType": "DiagnosticReport", "text": NARRATIVE, "status": "final", "code": {"text": "x"},
            "presentedForm": [{"contentType": "text/plain", "data": DATA, **attachment}]}


def test_matching_size_and_hash_pass() -> None:
    assert attachments.check(report(size=len(CONTENT), hash=SHA1)) == []
    assert attachments.check(report()) == []  # neither stated
    assert attachments.check(report(size=len(CONTENT), data=DATA[:8] + "\n" + DATA[8:])) == []  # base64 may be wrapped


def test_wrong_size_is_an_error_at_the_attachment() -> None:
    [issue] = [i for i in validate(report(size=100)) if "(rule: attachment" in i.diagnostics]
    assert issue.severity == "error" and issue.expression == ("DiagnosticReport.presentedForm[0]",)
    assert f"size 100 does not match the size of the data, {len(CONTENT)} bytes" in issue.diagnostics


def test_wrong_hash_is_an_error() -> None:
    other = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    [issue] = attachments.check(report(hash=other))
    assert "is not the SHA-1 of the data" in issue.diagnostics and SHA1 in issue.diagnostics


def test_no_data_or_bad_base64_is_not_judged_here() -> None:
    assert attachments.check(report(data=None, url="http://a.vn/x.pdf", size=100)) == []
    assert attachments.check(report(data="@@not base64@@", size=100)) == []  # the structure validation reports it


def test_any_attachment_in_any_resource() -> None:
    media = {"resourceType": "Media", "text": NARRATIVE, "status": "completed", "content": {"contentType": "text/plain", "data": DATA, "size": 1}}
    patient = {"resourceType": "Patient", "text": NARRATIVE, "photo": [{"data": DATA, "size": len(CONTENT)}, {"data": DATA, "size": 2}]}
    assert [i.expression for i in attachments.check(media)] == [("Media.content",)]
    assert [i.expression for i in attachments.check(patient)] == [("Patient.photo[1]",)]
