"""Pages and their websocket fragments come from the same blocks, with stable ids."""

from __future__ import annotations

import json
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import pytest

from server.engine.events import Flag, SessionKind
from server.engine.model import CarState, SessionStatus, StandingRow
from server.web.rendering import Renderer
from server.web.views import control_context, heartbeat_html, live_context

S = 1_000_000
NOW = 1_700_000_000 * S
LIVE_BLOCKS = ("header", "standings")
CONTROL_BLOCKS = ("header", "standings", "decoders", "unknowns", "flag_controls")
BLOCK_IDS = {
    "header": "session-header",
    "standings": "standings-table",
    "decoders": "decoders",
    "unknowns": "unknown-transponders",
    "flag_controls": "flag-controls",
    "heartbeat": "heartbeat",
}
EVIL = "<script>alert(1)</script>"

Token = tuple[Any, ...]


class _Tokens(HTMLParser):
    """The document as a flat list of tags and (whitespace-normalised) text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[Token] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", tag, tuple(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", tag, tuple(attrs)))
        self.tokens.append(("end", tag))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", tag))

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text:
            self.tokens.append(("data", text))


def tokens(html: str) -> list[Token]:
    parser = _Tokens()
    parser.feed(html)
    parser.close()
    return parser.tokens


def attrs_of(token: Token) -> dict[str, str | None]:
    return dict(token[2])


def ids(html: str) -> list[str]:
    return [str(attrs_of(t)["id"]) for t in tokens(html) if t[0] == "start" and "id" in attrs_of(t)]


def element(html: str, element_id: str) -> list[Token]:
    """The tokens of the element with ``element_id``, from its start tag to its end tag."""
    toks = tokens(html)
    for i, tok in enumerate(toks):
        if tok[0] == "start" and attrs_of(tok).get("id") == element_id:
            tag, depth = tok[1], 0
            for j in range(i, len(toks)):
                if toks[j][:2] == ("start", tag):
                    depth += 1
                elif toks[j][:2] == ("end", tag):
                    depth -= 1
                    if depth == 0:
                        return toks[i : j + 1]
            raise AssertionError(f"#{element_id} is never closed")
    raise AssertionError(f"no #{element_id}")


def top_level_ids(fragment: str) -> list[str | None]:
    """The id of every top-level element of a websocket message (what htmx swaps)."""
    out: list[str | None] = []
    depth = 0
    root_tag = ""
    for tok in tokens(fragment):
        if tok[0] == "start":
            if depth == 0:
                root_tag = tok[1]
                out.append(attrs_of(tok).get("id"))
            if tok[1] == root_tag:
                depth += 1
        elif tok[0] == "end" and tok[1] == root_tag:
            depth -= 1
    return out


def make_rows(count: int = 6, team: str | None = None) -> list[StandingRow]:
    rows = []
    for i in range(count):
        cls = "AB"[i % 2]
        rows.append(
            StandingRow(
                position=i + 1,
                number=f"{i + 7:02d}",
                class_name=cls,
                class_position=i // 2 + 1,
                team=team if team is not None and i == 1 else f"Team {i}",
                laps=20 - i // 3,
                last_lap_us=112 * S + i,
                best_lap_us=110 * S + i,
                best_lap_number=5,
                gap_us=None if i == 0 else i * S,
                gap_laps=0,
                interval_us=None if i == 0 else S,
                interval_laps=0,
                class_gap_us=None if i < 2 else i * S,
                class_gap_laps=0,
                class_interval_us=None if i < 2 else S,
                class_interval_laps=0,
                state=[CarState.RUN, CarState.PIT, CarState.OUT][i % 3],
                last_crossing_us=NOW - i * S,
            )
        )
    return rows


def make_status(**changes: object) -> SessionStatus:
    status = SessionStatus(
        session_id=12,
        kind=SessionKind.RACE,
        name="Race 1",
        flag=Flag.GREEN,
        green_at_us=NOW - 600 * S,
        ends_at_us=NOW + 3000 * S,
        checkered_at_us=None,
        finished=False,
    )
    return replace(status, **changes)  # type: ignore[arg-type]


def live(rows: list[StandingRow] | None = None, **changes: object) -> dict[str, Any]:
    return live_context(
        event_name="Club <b>4h</b>",
        status=make_status(**changes),
        rows=make_rows() if rows is None else rows,
        server_now_us=NOW,
        clock_rate=10.0,
    )


def control(rows: list[StandingRow] | None = None, **changes: object) -> dict[str, Any]:
    return control_context(
        event_name="Club 4h",
        status=make_status(**changes),
        rows=make_rows() if rows is None else rows,
        server_now_us=NOW,
        clock_rate=1.0,
        decoders=[
            {
                "url": "tcp://10.0.0.5:5403",
                "connected": True,
                "decoder_id": 4001,
                "last_status_at_us": NOW - 2 * S,
                "noise": 40,
                "last_passing_number": 99,
                "passings": 120,
                "bad_frames": 0,
                "connects": 1,
            },
            {"url": "serial:///dev/ttyUSB0", "connected": False, "last_error": EVIL},
            {
                "url": "rmonitor+tcp://10.0.0.9:50000",
                "connected": True,
                "bad_frames": 2,
                "last_rejection": f'spliced: $G,1,"21",1,"00:01:3$J,"22" {EVIL}',
            },
        ],
        unknowns={"7777777": (3, NOW - 90 * S, NOW - 30 * S)},
        rejected={"duplicate": 4},
    )


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def test_directories(renderer: Renderer) -> None:
    assert (renderer.templates_dir / "live.html").is_file()
    assert (renderer.static_dir / "app.css").is_file()
    assert (renderer.static_dir / "vendor" / "README.md").is_file()


def test_live_page_skeleton(renderer: Renderer) -> None:
    page = renderer.page("live.html", live())
    toks = tokens(page)
    found = ids(page)
    for needed in ("session-header", "live-badge", "standings-table", "standings", "heartbeat"):
        assert found.count(needed) == 1, needed
    assert [i for i in found if i.startswith("car-")] == [f"car-{n:02d}" for n in range(7, 13)]
    assert len(found) == len(set(found)), "ids must be unique"
    body = next(t for t in toks if t[:2] == ("start", "body"))
    assert attrs_of(body)["hx-ext"] == "ws"
    assert attrs_of(body)["ws-connect"] == "/ws/live"
    assert attrs_of(body)["data-clock-rate"] == "10.0"
    metas = [attrs_of(t) for t in toks if t[:2] == ("start", "meta")]
    assert any(m.get("name") == "viewport" for m in metas)
    scripts = [attrs_of(t) for t in toks if t[:2] == ("start", "script")]
    assert [str(s["src"]).split("?")[0] for s in scripts] == [
        "/static/vendor/htmx.min.js",
        "/static/vendor/ws.min.js",
        "/static/live.js",
        "/static/gap_switch.js",
        "/static/favourites.js",
        "/static/car.js",  # the car's panel
    ]
    assert all("defer" in s for s in scripts)
    links = [attrs_of(t) for t in toks if t[:2] == ("start", "link")]
    assert any(str(link.get("href")).startswith("/static/app.css?v=") for link in links)
    for src in [str(s["src"]) for s in scripts]:
        path = src.removeprefix("/static/").split("?")[0]
        assert (renderer.static_dir / path).is_file(), path


def test_live_fragments_equal_the_page(renderer: Renderer) -> None:
    context = live()
    page = renderer.page("live.html", context)
    message = renderer.fragments("live.html", LIVE_BLOCKS, context)
    assert top_level_ids(message) == ["session-header", "standings-table"]
    expected = element(page, "session-header") + element(page, "standings-table")
    assert tokens(message) == expected
    for block in LIVE_BLOCKS:
        alone = renderer.fragments("live.html", (block,), context)
        assert tokens(alone) == element(page, BLOCK_IDS[block])


def test_control_fragments_equal_the_page(renderer: Renderer) -> None:
    context = control()
    page = renderer.page("control.html", context)
    message = renderer.fragments("control.html", CONTROL_BLOCKS, context)
    assert top_level_ids(message) == [BLOCK_IDS[b] for b in CONTROL_BLOCKS]
    expected = [tok for block in CONTROL_BLOCKS for tok in element(page, BLOCK_IDS[block])]
    assert tokens(message) == expected
    found = ids(page)
    assert len(found) == len(set(found)), "ids must be unique"
    body = next(t for t in tokens(page) if t[:2] == ("start", "body"))
    assert attrs_of(body)["ws-connect"] == "/ws/control"


def test_heartbeat_block_is_the_heartbeat_message(renderer: Renderer) -> None:
    for template, context in (("live.html", live()), ("control.html", control())):
        assert renderer.fragments(template, ("heartbeat",), context) == heartbeat_html(NOW)
        assert heartbeat_html(NOW) in renderer.page(template, context)


def test_unknown_block_is_an_error(renderer: Renderer) -> None:
    with pytest.raises(KeyError, match="decoders"):
        renderer.fragments("live.html", ("decoders",), live())


def test_rows_carry_what_the_class_filter_needs(renderer: Renderer) -> None:
    page = renderer.page("live.html", live())
    row = element(page, "car-10")  # 4th car: class B, 2nd in class
    assert attrs_of(row[0])["data-class"] == "B"
    pos = next(t for t in row if t[0] == "start" and "c-pos" in str(attrs_of(t).get("class")))
    texts = [t[1] for t in row if t[0] == "data"]
    # the text is the overall value (live.js keeps it before showing the in-class one)
    assert attrs_of(pos)["data-in-class"] == "2" and row[row.index(pos) + 1] == ("data", "4")
    gap = next(t for t in row if t[0] == "start" and "c-gap" in str(attrs_of(t).get("class")))
    assert attrs_of(gap)["data-in-class"] == "+3.000" and "data-overall" not in attrs_of(gap)
    assert "B 2" in texts and "1:52.000" in texts
    assert "RUN" not in texts  # a car running is no exception: no chip


def test_fastest_lap_is_highlighted(renderer: Renderer) -> None:
    page = renderer.page("live.html", live())
    cells = [
        attrs_of(t)
        for t in element(page, "car-07")
        if t[0] == "start" and "c-best" in str(attrs_of(t).get("class"))
    ]
    assert "best-overall" in str(cells[0]["class"])
    second = [
        attrs_of(t)
        for t in element(page, "car-08")
        if t[0] == "start" and "c-best" in str(attrs_of(t).get("class"))
    ]
    assert "best-class" in str(second[0]["class"])  # fastest of class B


def test_header_clock(renderer: Renderer) -> None:
    header = element(renderer.page("live.html", live()), "session-header")
    clock = next(t for t in header if t[0] == "start" and "data-clock" in attrs_of(t))
    attrs = attrs_of(clock)
    assert attrs["data-mode"] == "remaining"
    assert attrs["data-server-now-us"] == str(NOW)
    assert attrs["data-ends-at-us"] == str(NOW + 3000 * S)
    assert attrs["data-green-at-us"] == str(NOW - 600 * S)
    assert attrs["data-stopped-at-us"] == ""
    assert attrs["data-rate"] == "10.0"
    assert ("data", "0:50:00") in header
    flagged = element(renderer.page("live.html", live(flag=Flag.YELLOW)), "session-header")
    assert attrs_of(flagged[0])["data-flag"] == "yellow"
    assert ("data", "Full-course yellow") in flagged
    practice = renderer.page("live.html", live(kind=SessionKind.PRACTICE))
    assert ("data", "0:10:00") in element(practice, "session-header")


def test_team_and_event_names_are_escaped(renderer: Renderer) -> None:
    context = live(rows=make_rows(team=EVIL))
    page = renderer.page("live.html", context)
    message = renderer.fragments("live.html", LIVE_BLOCKS, context)
    for html in (page, message):
        assert EVIL not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>4h</b>" not in html
    assert ("data", EVIL) in element(page, "car-08")
    control_page = renderer.page("control.html", control())
    assert EVIL not in control_page  # a decoder error message


def test_no_session_pages(renderer: Renderer) -> None:
    context = live_context(event_name="", status=None, rows=[], server_now_us=NOW, clock_rate=1.0)
    page = renderer.page("live.html", context)
    assert "No session yet" in page
    assert not [i for i in ids(page) if i.startswith("car-")]
    assert tokens(renderer.fragments("live.html", LIVE_BLOCKS, context)) == element(
        page, "session-header"
    ) + element(page, "standings-table")
    assert element(page, "standings")  # the target of later updates is there
    ctx = control_context(
        event_name="",
        status=None,
        rows=[],
        server_now_us=NOW,
        clock_rate=1.0,
        decoders=[],
        unknowns={},
        rejected={},
    )
    control_page = renderer.page("control.html", ctx)
    flags = element(control_page, "flag-controls")
    assert not [t for t in flags if t[0] == "start" and "hx-post" in attrs_of(t)]
    assert "No decoder configured" in control_page


def test_flag_buttons_post_the_flag(renderer: Renderer) -> None:
    flags = element(renderer.page("control.html", control(flag=Flag.YELLOW)), "flag-controls")
    buttons = [attrs_of(t) for t in flags if t[:2] == ("start", "button")]
    assert [json.loads(str(b["hx-vals"])) for b in buttons] == [
        {"flag": "green"},
        {"flag": "yellow"},
        {"flag": "red"},
        {"flag": "checkered"},
    ]
    assert {b["hx-post"] for b in buttons} == {"/api/v1/sessions/12/flag"}
    assert [b["aria-pressed"] for b in buttons] == ["false", "true", "false", "false"]
    assert all(b["type"] == "button" for b in buttons)


def test_control_panels(renderer: Renderer) -> None:
    page = renderer.page("control.html", control())
    decoders = element(page, "decoders")
    texts = [t[1] for t in decoders if t[0] == "data"]
    assert "tcp://10.0.0.5:5403" in texts and "connected" in texts and "lost" in texts
    assert "2 s ago" in texts and "4001" in texts
    # a bad RMonitor line: counted, and shown with its text (escaped)
    assert f'spliced: $G,1,"21",1,"00:01:3$J,"22" {EVIL}' in texts
    unknowns = element(page, "unknown-transponders")
    texts = [t[1] for t in unknowns if t[0] == "data"]
    assert "7777777" in texts and "30 s ago" in texts and "duplicate" in texts
    row = element(page, "car-07")
    assert any(t[0] == "start" and "data-since-us" in attrs_of(t) for t in row)


def test_login_page(renderer: Renderer) -> None:
    page = renderer.page("login.html", {"next": "/control", "error": None})
    toks = tokens(page)
    form = attrs_of(next(t for t in toks if t[:2] == ("start", "form")))
    assert (form["method"], form["action"]) == ("post", "/login")
    inputs = {attrs_of(t).get("name"): attrs_of(t) for t in toks if t[:2] == ("start", "input")}
    assert inputs["password"]["type"] == "password"
    assert inputs["next"]["value"] == "/control"
    assert "name" in inputs
    assert 'role="alert"' not in page
    failed = renderer.page("login.html", {"next": "/control", "error": f"bad {EVIL}"})
    assert 'role="alert"' in failed and EVIL not in failed
    assert "ws-connect" not in renderer.page("login.html", {})


def test_static_urls_are_versioned(renderer: Renderer) -> None:
    url = renderer.static_url("live.js")
    assert url.startswith("/static/live.js?v=") and len(url) > len("/static/live.js?v=")
    assert renderer.static_url("missing.js") == "/static/missing.js"


def test_a_live_row_is_rendered_once_per_content_and_again_when_anything_changes() -> None:
    renderer = Renderer()
    rows = make_rows()
    context = live(rows)
    table, row = context["table"], context["rows"][0]
    html = renderer.live_row(table, row)
    assert renderer.live_row(dict(table), dict(row)) is html  # equal content: not rendered
    assert html in renderer.fragments("live.html", ["standings"], context)
    moved = live([replace(rows[0], laps=rows[0].laps + 1), *rows[1:]])
    assert '<td class="c-laps">21</td>' in renderer.live_row(moved["table"], moved["rows"][0])
    assert renderer.live_row({**table, "pit_columns": True}, row) != html
    assert renderer.live_row(table, row) is html
