"""/ui/: the live dashboard page and its assets, plus the data routes it alone needs.

The page and assets are open (they hold no data); every number on the page comes from the
API, behind API_TOKEN when one is set.
"""

from __future__ import annotations

import functools

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from core.errors import NotFound
from core.http import dashboard_live
from core.ui.assets import UiAssets, load_assets

router = APIRouter()
router.include_router(dashboard_live.router)

IMMUTABLE = "public, max-age=31536000, immutable"


@functools.cache
def _assets() -> UiAssets:
    return load_assets()  # on first request, not at import


@router.get("/ui", include_in_schema=False)
async def ui_redirect() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=308)


@router.get("/ui/", include_in_schema=False)
async def ui_page() -> HTMLResponse:
    assets = _assets()
    return HTMLResponse(
        assets.index_html,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": assets.content_security_policy,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get("/ui/assets/{version}/{path:path}", include_in_schema=False)
async def ui_asset(version: str, path: str) -> Response:
    found = _assets().file(version, path)
    if found is None:
        raise NotFound(f"no asset {path!r} in version {version!r}")
    file, media_type = found
    return FileResponse(
        file,
        media_type=media_type,
        headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"},
    )
