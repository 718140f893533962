"""The workspace's pages, one module each; :data:`router` mounts them all under ``/app``."""

from __future__ import annotations

from fastapi import APIRouter

from . import assets, episode, patient, search, signin, tools, transfer

router = APIRouter()
for _module in (assets, signin, search, patient, episode, transfer, tools):
    router.include_router(_module.router)
