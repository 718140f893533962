"""The few HTML pages of the authorization server: sign in, a problem, signed out.

Plain HTML in Vietnamese with English, no script, inline style only (the pages are served
with a CSP that allows nothing else). Every value is escaped here, once.
"""

from __future__ import annotations

from html import escape
from string import Template

_PAGE = Template("""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>$title</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f5f7;margin:0;color:#1d2733}
main{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin:0 0 1rem}
.en{color:#5b6673;font-weight:normal;font-size:.9em}
label{display:block;margin:.8rem 0 .2rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #a9b3bd;border-radius:4px;font-size:1rem}
.buttons{margin-top:1.2rem;display:flex;gap:.6rem}
button{padding:.55rem 1rem;font-size:1rem;border-radius:4px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b5cad}
.error{background:#fdecea;border:1px solid #f5c2bd;color:#8a1c12;padding:.6rem;border-radius:4px}
.app{color:#5b6673;font-size:.9rem}
</style>
</head>
<body><main>
$body
</main></body>
</html>
""")

_LOGIN = Template("""<h1>Đăng nhập <span class="en">/ Sign in</span></h1>
<p class="app">Ứng dụng <b>$client</b> yêu cầu quyền truy cập: <span class="en">The application <b>$client</b> asks for access:</span><br><code>$scope</code></p>
$error
<form method="post" action="$action" autocomplete="off">
$hidden
<label for="username">Tên đăng nhập <span class="en">/ Username</span></label>
<input type="text" id="username" name="username" value="$username" required autofocus autocapitalize="none" spellcheck="false">
<label for="password">Mật khẩu <span class="en">/ Password</span></label>
<input type="password" id="password" name="password" required>
$patient
<div class="buttons">
<button type="submit" name="action" value="login">Đăng nhập <span>/ Sign in</span></button>
<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Hủy <span>/ Cancel</span></button>
</div>
</form>""")

_PATIENT = Template("""<label for="patient">Mã bệnh nhân <span class="en">/ Patient id</span></label>
<input type="text" id="patient" name="patient" value="$patient" required spellcheck="false">""")


def _error(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def login_page(*, action: str, client: str, scope: str, fields: dict[str, str], username: str = "", error: str | None = None,
               ask_patient: bool = False, patient: str = "") -> str:
    """The sign-in form; ``fields`` (the authorization request and the CSRF token) go back hidden."""
    hidden = "\n".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())
    body = _LOGIN.substitute(
        action=escape(action), client=escape(client), scope=escape(scope), error=_error(error), hidden=hidden,
        username=escape(username), patient=_PATIENT.substitute(patient=escape(patient)) if ask_patient else "",
    )
    return _PAGE.substitute(title="Đăng nhập / Sign in — Liên Thông", body=body)


def message_page(title_vi: str, title_en: str, text: str, *, error: bool = False) -> str:
    """A page that only says something (a request that cannot go on, signed out)."""
    paragraph = _error(text) if error else f"<p>{escape(text)}</p>"
    body = f'<h1>{escape(title_vi)} <span class="en">/ {escape(title_en)}</span></h1>\n{paragraph}'
    return _PAGE.substitute(title=f"{escape(title_vi)} / {escape(title_en)} — Liên Thông", body=body)


def page(title: str, body: str) -> str:
    """Any other page of the server in the same frame (``body`` is HTML its caller escaped)."""
    return _PAGE.substitute(title=f"{escape(title)} — Liên Thông", body=body)
