"""``lienthong clients``, ``users`` and ``token`` (on a SQLite file: the commands open their own store)."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from pathlib import Path

import pytest

from server.auth import clients, users
from server.auth.cli import add_auth_commands
from server.auth.tokens import Verifier
from server.config import Settings
from server.storage.factory import opened

from .conftest import client_key


def lienthong(*argv: str) -> int:
    """The commands as ``lienthong`` runs them (``server.cli.main`` once it mounts them)."""
    from server import cli

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "token" not in sub.choices:
        add_auth_commands(sub)
    args = parser.parse_args(list(argv))
    return int(args.func(args))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lienthong.db'}"


def in_store(url: str, work):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        async with opened(url) as store:
            return await work(store)

    return asyncio.run(run())


def test_clients_add_list_remove(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rs, es = client_key("RS384"), client_key("ES384")
    jwks = tmp_path / "his-a.jwks.json"
    jwks.write_text(json.dumps({"keys": [rs.public_jwk, es.public_jwk]}))
    assert lienthong("clients", "add", "his-a", "--jwks", str(jwks), "--scope", "system/*.cruds", "--facility", "92001", "--facility", "92002", "--store", url) == 0
    assert lienthong("clients", "add", "app1", "--redirect-uri", "https://app.example/cb", "--redirect-uri", "http://127.0.0.1:9000/cb", "--scope", "patient/*.rs openid launch/patient", "--store", url) == 0
    capsys.readouterr()
    assert lienthong("clients", "list", "--store", url) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("app1\tpublic\tscope=patient/*.rs openid launch/patient\tredirect_uris=https://app.example/cb http://127.0.0.1:9000/cb")
    assert out[1] == f"his-a\tbackend\tscope=system/*.cruds\tkeys={rs.kid},{es.kid}\tfacilities=92001,92002"
    client = in_store(url, lambda s: clients.get_client(s, "his-a"))
    assert client.facilities == ("92001", "92002") and len(client.jwks["keys"]) == 2
    assert lienthong("clients", "remove", "his-a", "--store", url) == 0
    assert lienthong("clients", "remove", "his-a", "--store", url) == 2
    assert "no client 'his-a'" in capsys.readouterr().err


def test_clients_add_refuses_private_keys_and_other_algorithms(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = client_key("RS384")
    cases = {
        "private": ({"keys": [key.private_jwk]}, "PRIVATE key"),
        "RS256": ({"keys": [{**key.public_jwk, "alg": "RS256"}]}, "only RS384 and ES384"),
        "no alg": ({"keys": [{k: v for k, v in key.public_jwk.items() if k != "alg"}]}, "only RS384 and ES384"),
        "HS": ({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s", "alg": "HS256"}]}, "PRIVATE key"),
        "no kid": ({"keys": [{k: v for k, v in key.public_jwk.items() if k != "kid"}]}, "no 'kid'"),
        "ES384 on P-256": ({"keys": [{**client_key("ES384").public_jwk, "crv": "P-256"}]}, "crv P-384"),
        "not a JWKS": ([1, 2], "JSON object"),
    }
    for name, (data, message) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data))
        assert lienthong("clients", "add", "x", "--jwks", str(path), "--scope", "system/*.rs", "--store", url) == 2, name
        err = capsys.readouterr().err
        assert message in err, (name, err)
        assert "Traceback" not in err
    assert lienthong("clients", "add", "x", "--jwks", str(tmp_path / "missing.json"), "--scope", "system/*.rs", "--store", url) == 2
    assert "cannot read the JWKS file" in capsys.readouterr().err
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"keys": [key.public_jwk]}))
    assert lienthong("clients", "add", "x", "--jwks", str(good), "--scope", "system/Patient.frob", "--store", url) == 2
    assert "neither v2 letters" in capsys.readouterr().err
    assert lienthong("clients", "add", "x", "--jwks", str(good), "--redirect-uri", "https://a/cb", "--scope", "system/*.rs", "--store", url) == 2
    assert lienthong("clients", "add", "x", "--redirect-uri", "https://a/cb#frag", "--scope", "user/*.rs", "--store", url) == 2
    assert "#fragment" in capsys.readouterr().err
    assert in_store(url, clients.list_clients) == []


def test_users_add_list_remove(url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert lienthong("users", "add", "nguyen.an", "--role", "doctor", "--fhir-user", "Practitioner/123", "--store", url) == 0
    captured = capsys.readouterr()
    generated = captured.out.strip()
    assert len(generated) >= 16 and "shown once" in captured.err
    assert in_store(url, lambda s: users.check_password(s, "nguyen.an", generated)).fhir_user == "Practitioner/123"

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert lienthong("users", "add", "tran.binh", "--role", "admin", "--password-stdin", "--store", url) == 0
    assert capsys.readouterr().out == ""  # nothing to show: the password was given
    assert in_store(url, lambda s: users.check_password(s, "tran.binh", "a long enough password")).role == "admin"

    assert lienthong("users", "list", "--store", url) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [r[:3] for r in rows] == [["nguyen.an", "doctor", "Practitioner/123"], ["tran.binh", "admin", "-"]]
    assert all("hash" not in "".join(r) and "$argon2" not in "".join(r) for r in rows)

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert lienthong("users", "add", "le.c", "--role", "doctor", "--password-stdin", "--store", url) == 2
    assert lienthong("users", "add", "le.c", "--role", "doctor", "--fhir-user", "Hospital/1", "--store", url) == 2
    assert "Practitioner/123" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        lienthong("users", "add", "le.c", "--role", "nurse", "--store", url)
    assert lienthong("users", "remove", "tran.binh", "--store", url) == 0
    assert lienthong("users", "remove", "tran.binh", "--store", url) == 2


def test_token(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(store_url=url)

    def verify(token: str):  # type: ignore[no-untyped-def]
        return in_store(url, lambda s: Verifier(settings, s).verify(token))

    assert lienthong("token", "--scope", "system/*.rs", "--ttl", "60", "--store", url) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    access = verify(token)
    assert access.scope_text == "system/*.rs" and access.client_id == "operator" and access.user is None
    assert "expires in 60 s" in out.err

    in_store(url, lambda s: users.add_user(s, "bs.an", "doctor", "a long enough password", "Practitioner/7"))
    assert lienthong("token", "--scope", "patient/*.rs user/*.cruds user/AuditEvent.rs", "--user", "bs.an", "--patient", "p1", "--store", url) == 0
    out = capsys.readouterr()
    access = verify(out.out.strip())
    assert (access.user, access.role, access.fhir_user, access.patient) == ("bs.an", "doctor", "Practitioner/7", "p1")
    assert access.scope_text == "patient/*.rs user/*.cruds" and "narrowed" in out.err
    assert not access.can("AuditEvent", "r")

    assert lienthong("token", "--scope", "user/*.rs", "--user", "nobody", "--store", url) == 2
    assert "no local account 'nobody'" in capsys.readouterr().err
    assert lienthong("token", "--scope", "user/AuditEvent.rs", "--user", "bs.an", "--store", url) == 2
    assert lienthong("token", "--scope", "openid", "--store", url) == 2
    assert lienthong("token", "--scope", "user/*.rs", "--ttl", "0", "--store", url) == 2


def test_dev_admin_only_on_an_empty_store(url: str) -> None:
    password = in_store(url, users.ensure_dev_admin)
    assert password and in_store(url, lambda s: users.check_password(s, "admin", password)).role == "admin"
    assert in_store(url, users.ensure_dev_admin) is None


def test_redirect_uris(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    for uri in ("https://app.example/cb?x=1", "http://127.0.0.1:8765/cb", "http://localhost/cb", "vn.benhvien.app:/callback"):
        assert lienthong("clients", "add", "app", "--redirect-uri", uri, "--scope", "user/*.rs", "--store", url) == 0, uri
    for uri, message in (("http://app.example/cb", "use https"), ("javascript:alert(1)", "cannot receive"), ("/cb", "absolute"), ("https:///cb", "absolute")):
        assert lienthong("clients", "add", "app", "--redirect-uri", uri, "--scope", "user/*.rs", "--store", url) == 2, uri
        assert message in capsys.readouterr().err, uri
