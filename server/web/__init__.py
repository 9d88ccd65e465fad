"""The pages and their view models: routes (HTML, JSON API, websockets), logins and roles,
the commands the pages send, Jinja2 rendering, and the templates and static files (package data).

Imports ``server.service``, ``server.engine`` and ``server.db``; the CLI and the app factory
import it, never the other way round.
"""
