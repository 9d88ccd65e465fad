"""The API's interactive docs, Swagger UI and ReDoc, served from the package.

Strategy: FastAPI's own pages load their scripts from a CDN, so at a track without
internet they are blank. These routes build the same pages with FastAPI's helpers but
point them at the copies in ``static/vendor/`` (versions and licences in its README),
through ``Renderer.static_url`` so they are cached like every other asset. No Google
fonts, a ``data:`` favicon and a content security policy against the rest: nothing
leaves the track's network.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from server.web.rendering import Renderer

DOCS_PATH = "/api/v1/docs"
REDOC_PATH = "/api/v1/redoc"
NO_FAVICON = "data:,"  # the browser asks for /favicon.ico otherwise
# ReDoc's side menu always shows Redocly's logo from their CDN (2.5.4, not an option): the
# browser is told not to fetch images, fonts or data from anywhere but this server
OFF_SITE_BLOCKED = "img-src 'self' data:; font-src 'self' data:; connect-src 'self'"


def _local_only(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = OFF_SITE_BLOCKED
    return page


def docs_router(renderer: Renderer, openapi_url: str) -> APIRouter:
    """Swagger UI at ``DOCS_PATH`` and ReDoc at ``REDOC_PATH``, for ``openapi_url``."""
    router = APIRouter(include_in_schema=False)
    title = "racecontrol · API"

    @router.get(DOCS_PATH)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=renderer.static_url("vendor/swagger-ui-bundle.js"),
            swagger_css_url=renderer.static_url("vendor/swagger-ui.css"),
            swagger_favicon_url=NO_FAVICON,
            oauth2_redirect_url=None,  # the API takes bearer tokens: no OAuth2 flow returns here
        )
        return _local_only(page)

    @router.get(REDOC_PATH)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=renderer.static_url("vendor/redoc.standalone.js"),
            redoc_favicon_url=NO_FAVICON,
            with_google_fonts=False,
        )
        return _local_only(page)

    return router
