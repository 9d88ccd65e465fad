"""A session's rule set: chosen as a preset plus overrides, stored resolved (every field),
read back as the engine's RuleSet whatever the presets in code have become since."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.db import repository
from server.engine.events import Flag
from server.engine.rule_spec import resolved_spec, rules_from_spec
from server.engine.rules import IMG, MINUTE_US, PRESETS, DriveTime, PenaltyKind, PenaltySpec

SM = async_sessionmaker[AsyncSession]


async def test_rules_are_stored_and_rebuilt(db_sessionmaker: SM) -> None:
    spec: dict[str, Any] = {
        "preset": "champcar_older",
        "max_stint_us": 50 * MINUTE_US,
        "stint_warnings_us": [15 * MINUTE_US, 5 * MINUTE_US],
        "window_closes_us": None,
        "caution_flags": ["yellow", "code_60"],
        "short_stop_penalty": {"kind": "stop_and_go", "value": 60},
        "drive_time": "pit_excluded_on_change",
    }
    async with db_sessionmaker() as db:
        plain = await repository.create_session(db, "Rules Cup", "race", "Default", 120)
        ruled = await repository.create_session(db, "Rules Cup", "sprintduro", "SD", 120, spec)
        img = await repository.create_session(db, "Rules Cup", "race", "Img", 60, {})
    async with db_sessionmaker() as db:
        assert (await repository.get_session(db, plain.id)).rules == resolved_spec(IMG)
        stored = (await repository.get_session(db, ruled.id)).rules
        assert (await repository.get_session(db, img.id)).rules == resolved_spec(IMG)
        assert (await repository.session_config(db, plain.id)).rules == IMG
        assert (await repository.session_config(db, img.id)).rules == IMG
        config = await repository.session_config(db, ruled.id)
    assert stored is not None and "preset" not in stored
    assert stored["name"] == "champcar_older" and stored["min_stop_us"] == 5 * MINUTE_US
    assert config.rules == replace(
        PRESETS["champcar_older"],
        max_stint_us=50 * MINUTE_US,
        window_closes_us=None,
        caution_flags=frozenset({Flag.YELLOW, Flag.CODE_60}),
        short_stop_penalty=PenaltySpec(PenaltyKind.STOP_AND_GO, 60),
        drive_time=DriveTime.PIT_EXCLUDED_ON_CHANGE,
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"preset": "lemons"}, "unknown rules preset 'lemons'"),
        ({"max_stint": 60}, "unknown rules fields ['max_stint']"),
        ({"name": "mine"}, "resolved rules: missing fields ['caution_flags'"),
        ({"preset": "img", "name": "mine"}, "unknown rules fields ['name']"),
        ({"max_stint_us": "3h"}, "'max_stint_us' must be a non-negative integer"),
        ({"max_stint_us": -1}, "'max_stint_us' must be a non-negative integer"),
        ({"hourly_snapshots": 1}, "'hourly_snapshots' must be true or false"),
        ({"stint_warnings_us": 5}, "'stint_warnings_us' must be a list"),
        ({"caution_flags": ["blue"]}, "'caution_flags': 'blue' is not one of"),
        ({"missed_stop_penalty": {"kind": "laps"}}, "'missed_stop_penalty' must be"),
        ({"missed_stop_penalty": None}, "'missed_stop_penalty' must be"),
    ],
)
async def test_bad_rules_are_refused_before_storing(
    db_sessionmaker: SM, spec: dict[str, Any], message: str
) -> None:
    async with db_sessionmaker() as db:
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
            await repository.create_session(db, "Bad Rules", "race", "Race", 60, spec)
        assert await repository.list_sessions(db) == []


def test_a_spec_is_a_preset_plus_overrides() -> None:
    assert rules_from_spec(None) is IMG
    for name, rules in PRESETS.items():
        assert rules_from_spec({"preset": name}) == rules
    aer = rules_from_spec({"preset": "aer", "min_stop_us": 0})
    assert aer.name == "aer" and aer.min_stop_us == 0
    assert aer.mandatory_stops_every_us == PRESETS["aer"].mandatory_stops_every_us
    with pytest.raises(ValueError, match="rules must be an object"):
        rules_from_spec(["img"])  # type: ignore[arg-type]


def test_a_resolved_spec_needs_no_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    for rules in PRESETS.values():
        assert rules_from_spec(resolved_spec(rules)) == rules
    aer = resolved_spec(PRESETS["aer"])
    monkeypatch.setitem(PRESETS, "aer", replace(IMG, name="aer", min_stop_us=1))
    assert rules_from_spec({"preset": "aer"}).min_stop_us == 1  # the patch is in force
    assert rules_from_spec(aer).min_stop_us == 3 * MINUTE_US  # the stored one is not
    with pytest.raises(ValueError, match="unknown fields \\['speed'\\]"):
        rules_from_spec({**aer, "speed": 1})


async def test_a_preset_changed_in_code_does_not_change_a_past_session(
    db_sessionmaker: SM, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db_sessionmaker() as db:
        row = await repository.create_session(
            db, "Preset Cup", "race", "Race", 240, {"preset": "wcma"}
        )
    wcma = PRESETS["wcma"]
    monkeypatch.setitem(PRESETS, "wcma", replace(wcma, min_stop_us=MINUTE_US))
    async with db_sessionmaker() as db:
        assert (await repository.session_config(db, row.id)).rules == wcma
