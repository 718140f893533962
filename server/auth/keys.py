"""The server's own signing key: made once, kept in the store, shared by every worker and the CLI.

Kept in the store (not a file) so that ``lienthong token --store URL`` and every server
process using that store sign and verify with the same key. EC P-256 (ES256): short keys,
fast to make, verified with ``cryptography`` through PyJWT.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..storage.base import Store

ALGORITHM = "ES256"
_RECORD = ("key", "server")


@dataclass(frozen=True)
class ServerKey:
    kid: str
    private: ec.EllipticCurvePrivateKey

    @property
    def public(self) -> ec.EllipticCurvePublicKey:
        return self.private.public_key()

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private, algorithm=ALGORITHM, headers={"kid": self.kid})

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK (for ``/auth/jwks``)."""
        data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.public))
        return {**data, "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def pem(self) -> str:
        return self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def from_pem(pem: str) -> ServerKey:
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey):
        raise ValueError("the server key must be an EC key")
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return ServerKey(hashlib.sha256(der).hexdigest()[:16], private)


def new_key() -> ServerKey:
    return from_pem(ServerKey("", ec.generate_private_key(ec.SECP256R1())).pem())


async def server_key(store: Store) -> ServerKey:
    """The store's key, made on first use (two processes racing agree on the first one written)."""
    record = await store.get_record(*_RECORD)
    if record is None:
        await store.add_record(*_RECORD, {"pem": new_key().pem()})
        record = await store.get_record(*_RECORD)
        assert record is not None
    return from_pem(record["pem"])


async def install_key(store: Store, key: ServerKey) -> None:
    """Use ``key`` as the store's key (tests: one key for the whole run)."""
    await store.put_record(*_RECORD, {"pem": key.pem()})
