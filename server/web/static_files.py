"""``/static``: files served with a cache policy that suits phones on a weak network.

Strategy: every page links its assets through ``Renderer.static_url``, which appends the
file's content hash (``?v=<hash>``). A request whose ``v`` matches the file being served
may be cached for a year without asking again: a changed file gets a new URL. Any other
request (no ``v``, or an old one during an upgrade) gets a short cache, so a stale copy
lives a minute at most. Compression is not done here but by the app's gzip middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from os import PathLike

from starlette.datastructures import QueryParams
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"


class VersionedStaticFiles(StaticFiles):
    """``StaticFiles`` whose responses say how long they may be cached.

    ``version_of(path)`` gives the current version of a file relative to ``directory``
    (``Renderer.static_version``), the same value the pages put in ``?v=``.
    """

    def __init__(self, *, directory: str | PathLike[str], version_of: Callable[[str], str]) -> None:
        super().__init__(directory=directory)
        self._version_of = version_of

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):  # a file was found (maybe not modified)
            asked = QueryParams(scope.get("query_string", b"")).get("v")
            current = self._version_of(path)
            fresh = asked is not None and current != "" and asked == current
            response.headers["Cache-Control"] = IMMUTABLE if fresh else SHORT
        return response
