"""Access control: SMART on FHIR scopes, tokens, the built-in authorization server.

- ``scopes``: the SMART v1/v2 scope grammar → :class:`~server.auth.scopes.Grant`.
- ``access``: :class:`~server.auth.access.Access`, what one request's principal may do.
- ``keys``/``tokens``: the server's signing key; issuing and verifying access tokens.
- ``guard``: the storage boundary every request's reads and writes pass through.
- ``clients``/``users``/``oauth``/``oidc``: the authorization server and external issuers.
"""
