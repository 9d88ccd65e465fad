"""Static assets and the API docs: compressed, cached by version, served from the package.

The app is the real one (``create_app``); static files and the docs pages need no
database, so most of these talk to it in-process. The /live page needs the race, so its
test runs a real server.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import AsyncIterator
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.settings import Settings
from server.web.rendering import Renderer
from server.web.routes.api_docs import OFF_SITE_BLOCKED
from server.web.static_files import IMMUTABLE, SHORT
from tests.fixtures.app_server import prepare_database, running_server

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "server" / "web" / "static"
GZIP = {"Accept-Encoding": "gzip"}
ENTRIES = "number,class,team,drivers,transponder\n1,A,One,Ann,101\n2,B,Two,Bo,102\n"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/unused.db",
        spool_path=str(tmp_path / "spool.jsonl"),
        rmonitor_port=None,
        secret_key="test-secret",
    )
    transport = httpx.ASGITransport(app=create_app(settings))  # no lifespan: no database
    async with httpx.AsyncClient(transport=transport, base_url="http://racecontrol") as c:
        yield c


class _Links(HTMLParser):
    """Every URL a page makes the browser load: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value is not None:
                self.urls.append(value)


def loaded_urls(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize(
    "path", ["vendor/htmx.min.js", "vendor/ws.min.js", "live.js", "app.css", "staff.css"]
)
async def test_a_versioned_asset_is_compressed_and_cached_for_good(
    client: httpx.AsyncClient, path: str
) -> None:
    url = Renderer().static_url(path)
    assert re.fullmatch(rf"/static/{re.escape(path)}\?v=[0-9a-f]{{12}}", url)
    response = await client.get(url, headers=GZIP)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == IMMUTABLE
    assert "accept-encoding" in response.headers["vary"].lower()
    assert response.content == (STATIC / path).read_bytes()  # httpx decoded the gzip
    assert response.num_bytes_downloaded < 0.5 * len(response.content)  # bytes on the wire


async def test_an_unversioned_or_stale_asset_gets_a_short_cache(
    client: httpx.AsyncClient,
) -> None:
    for url in ["/static/live.js", "/static/live.js?v=000000000000", "/static/live.js?v="]:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == SHORT, url


async def test_a_revalidated_asset_keeps_its_cache_policy(client: httpx.AsyncClient) -> None:
    url = Renderer().static_url("app.css")
    first = await client.get(url)
    again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["cache-control"] == IMMUTABLE


async def test_a_missing_asset_is_a_plain_404(client: httpx.AsyncClient) -> None:
    for url in ["/static/nope.js?v=abc", "/static/../app.py"]:
        response = await client.get(url)
        assert response.status_code == 404, url
        assert "cache-control" not in response.headers


async def test_without_gzip_in_accept_encoding_the_bytes_are_plain(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        Renderer().static_url("vendor/htmx.min.js"), headers={"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in response.headers
    assert response.content == (STATIC / "vendor" / "htmx.min.js").read_bytes()


@pytest.mark.parametrize(
    ("page", "assets"),
    [
        ("/api/v1/docs", ["vendor/swagger-ui-bundle.js", "vendor/swagger-ui.css"]),
        ("/api/v1/redoc", ["vendor/redoc.standalone.js"]),
    ],
)
async def test_the_api_docs_load_only_local_assets(
    client: httpx.AsyncClient, page: str, assets: list[str]
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == OFF_SITE_BLOCKED
    html = response.text
    assert "googleapis" not in html and "cdn.jsdelivr" not in html
    urls = loaded_urls(html)
    assert {Renderer().static_url(a) for a in assets} <= set(urls)
    for url in urls:
        assert url.startswith("/") or url.startswith("data:"), url
        if url.startswith("/static/"):
            asset = await client.get(url, headers=GZIP)
            assert asset.status_code == 200, url
            assert asset.headers["cache-control"] == IMMUTABLE, url
            assert asset.headers["content-encoding"] == "gzip", url
    spec = await client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json()["paths"]


def test_every_vendored_file_is_listed_with_its_checksum() -> None:
    """The vendor README's table is the record of what was copied; it must stay true."""
    readme = (STATIC / "vendor" / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", readme, re.M))
    code = {p.name for p in (STATIC / "vendor").iterdir() if p.suffix in {".js", ".css"}}
    assert set(listed) == code
    for name, sha256 in listed.items():
        assert hashlib.sha256((STATIC / "vendor" / name).read_bytes()).hexdigest() == sha256


def test_every_static_file_is_package_data() -> None:
    """A file the wheel leaves out is a blank page on an installed server."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["server"]
    for path in STATIC.rglob("*"):
        if path.is_file():
            relative = path.relative_to(ROOT / "server").as_posix()
            assert any(
                fnmatch(relative, p) and relative.count("/") == p.count("/") for p in patterns
            ), relative


@pytest.mark.parametrize("empty_db_url", ["sqlite"], indirect=True)
async def test_live_page_html_is_compressed(db_url: str) -> None:
    token = await prepare_database(db_url, ENTRIES, "Gzip Cup")
    async with running_server(db_url, token) as srv, srv.client() as api:
        created = await api.post(
            "/api/v1/sessions", json={"event": "Gzip Cup", "type": "practice", "name": "FP1"}
        )
        assert created.status_code == 201, created.text
        async with httpx.AsyncClient(base_url=srv.base_url) as browser:
            page = await browser.get("/live", headers=GZIP)
        assert page.headers["content-encoding"] == "gzip"
        assert page.headers["content-type"].startswith("text/html")
        assert 'id="car-1"' in page.text
        for url in loaded_urls(page.text):
            if url.startswith("/static/"):
                assert re.search(r"\?v=[0-9a-f]{12}$", url), url
