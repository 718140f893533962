"""The workspace's pages, one module each; :data:`router` mounts them all under ``/app``."""

from __future__ import annotations

from fastapi import APIRouter

from . import assets, patient, search, signin, tools

router = APIRouter()
for _module in (assets, signin, search, patient, tools):
    router.include_router(_module.router)
