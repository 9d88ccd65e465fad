"""Jinja2 rendering of whole pages and of their blocks as websocket fragments.

Strategy: a page template is a layout whose blocks (``header``, ``standings``, ...) each
hold exactly one element with a stable id. ``page`` renders the whole document for a
GET; ``fragments`` renders only the named blocks of the same template with the same
context and concatenates them: that string is the websocket message, and the htmx
websocket extension swaps each top-level element into the page by its id. One source
for both means a page and its updates can never drift apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from server.web.page_token import request_csrf_token

# package data: templates and static files travel inside the wheel, next to this module
_PACKAGE_DIR = Path(str(resources.files("server.web")))
_ROWS_KEPT = 1024  # rendered table rows remembered (a 60-car race shows 60 at a time)


def _frozen(value: Any) -> Any:
    """``value`` (a view's dicts, lists and scalars) as something hashable."""
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


class Renderer:
    """Renders ``templates/`` beside this module; ``static/`` beside it is served at ``/static``."""

    def __init__(
        self,
        templates_dir: Path | None = None,
        static_dir: Path | None = None,
        *,
        static_prefix: str = "/static",
    ) -> None:
        self._templates_dir = templates_dir or _PACKAGE_DIR / "templates"
        self._static_dir = static_dir or _PACKAGE_DIR / "static"
        self._static_prefix = static_prefix.rstrip("/")
        self._versions: dict[str, str] = {}
        self._env = Environment(
            loader=FileSystemLoader(self._templates_dir),
            autoescape=True,
            undefined=StrictUndefined,  # a missing context key is a bug, not an empty cell
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.globals["static_url"] = self.static_url
        self._env.globals["request_csrf_token"] = request_csrf_token
        self._env.globals["live_row"] = self.live_row
        self._rows: dict[Any, Markup] = {}

    @property
    def templates_dir(self) -> Path:
        return self._templates_dir

    @property
    def static_dir(self) -> Path:
        return self._static_dir

    def static_version(self, path: str) -> str:
        """The content hash of ``static/<path>`` (12 hex digits), "" for a missing file."""
        version = self._versions.get(path)
        if version is None:
            try:
                data = (self._static_dir / path).read_bytes()
            except OSError:
                data = b""
            version = hashlib.sha256(data).hexdigest()[:12] if data else ""
            self._versions[path] = version
        return version

    def static_url(self, path: str) -> str:
        """``/static/<path>?v=<content hash>``, so browsers never run a stale live.js."""
        version = self.static_version(path)
        url = f"{self._static_prefix}/{path}"
        return f"{url}?v={version}" if version else url

    def live_row(self, table: Mapping[str, Any], row: Mapping[str, Any]) -> Markup:
        """One row of the live table, rendered once per distinct table and row: between
        two crossings most rows show the same (their clocks tick in the browser), and
        rendering every row was half of each update's render (bench/README.md). The key
        is everything the row's template can see, so a cached row is never stale."""
        key = (_frozen(table), _frozen(row))
        html = self._rows.get(key)
        if html is None:
            if len(self._rows) >= _ROWS_KEPT:
                self._rows.clear()  # rows of past laps: most never come back
            template = self._env.get_template("_live_row.html")
            html = self._rows[key] = Markup(template.render(t=table, r=row))
        return html

    def page(self, template_name: str, context: Mapping[str, Any]) -> str:
        """The whole document."""
        return self._env.get_template(template_name).render(context)

    def fragments(
        self, template_name: str, block_names: Iterable[str], context: Mapping[str, Any]
    ) -> str:
        """Only the named blocks of ``template_name``, rendered and concatenated in order.

        Raises ``KeyError`` for a block the template does not have.
        """
        template = self._env.get_template(template_name)
        parts: list[str] = []
        for name in block_names:
            try:
                block = template.blocks[name]
            except KeyError:
                raise KeyError(f"{template_name} has no block {name!r}") from None
            parts.append("".join(block(template.new_context(dict(context)))))
        return "".join(parts)
