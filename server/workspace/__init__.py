"""The referral doctor's web workspace at ``/app/``: find a patient, read the whole record.

Server-rendered HTML in Vietnamese (English as a switch), one stylesheet, no script and nothing
fetched from elsewhere. Every page reads through the signed-in person's access token, so it
sees exactly what that token may see through the FHIR API, and is audited the same way.

- :mod:`.sessions`, :mod:`.signin`: browser sessions and the authorization-code sign-in;
- :mod:`.i18n`, :mod:`.layout`: the words of both languages, the page frame;
- ``pages/``: one module per page (its routes), mounted by :func:`.pages.router`.
"""
