"""The sans-IO server side of a T&S connection: replies, detections and counters."""

from __future__ import annotations

import datetime as dt

import pytest

from timing_adapters.adapter import Detection
from timing_adapters.mylaps_ts import (
    AckGetInfo,
    AckMarker,
    AckPassing,
    AckPing,
    AckPong,
    AckStore,
    BadMessage,
    BadMessageReason,
    ExchangeSession,
    GetInfo,
    GetLocations,
    Marker,
    Passing,
    Ping,
    Pong,
    RecentKeys,
    Store,
    UnknownMessage,
    make_passing,
    parse_message,
)

# A V1 Store of the racemap/mylaps-to-racemap-forwarder log (MIT), commit b6471c20.
STORE = parse_message(
    b"5Km@Store@000122806:15:31.82711 01  1D65725041339@000013506:15:58.79411 01  1D65825041342@2@"
)
DAY = (dt.date(2025, 4, 13) - dt.date(1970, 1, 1)).days * 86_400_000_000


def test_first_pong_is_greeted_like_the_log_later_ones_get_a_bare_ack() -> None:
    session = ExchangeSession()
    first = session.handle(Pong("Start - Finish"))
    assert first.replies == (
        AckPong("racecontrol", ("Version2.1",)),
        GetLocations("racecontrol"),
        GetInfo("racecontrol"),
    )
    assert first.keepalive
    assert AckPong("x", ("", "Version2.1")).version == "Version2.1"
    assert session.handle(Pong("21Km = 2Km")).replies == (AckPong("racecontrol"),)
    old = ExchangeSession("srv", version=None)
    assert old.handle(Pong("x")).replies[0] == AckPong("srv")


def test_keepalives() -> None:
    session = ExchangeSession("srv")
    assert session.ping() == Ping("srv")
    assert session.handle(AckPing("3Km")).keepalive
    ping = session.handle(Ping("3Km"))
    assert ping.replies == (AckPing("srv"),) and ping.keepalive
    assert set(session.locations) == {"3Km"}


def test_store_is_acknowledged_after_its_detections() -> None:
    session = ExchangeSession()
    assert isinstance(STORE, Store)
    reaction = session.handle(STORE)
    assert reaction.replies == (AckStore("racecontrol", 2),)
    assert reaction.detections == (
        # the newest passing of the message is where T&S's clock stood when it sent it
        Detection(
            "5Km",
            "0001228",
            DAY + 22_531_827_000,
            None,
            "5Km",
            relative_clock=True,
            decoder_now_us=DAY + 22_558_794_000,
        ),
        Detection(
            "5Km",
            "0000135",
            DAY + 22_558_794_000,
            None,
            "5Km",
            relative_clock=True,
            decoder_now_us=DAY + 22_558_794_000,
        ),
    )
    again = session.handle(STORE)  # T&S did not see the ack: it sends the same again
    assert again.replies == reaction.replies
    assert again.detections == ()
    assert (session.records, session.duplicates, session.detections) == (4, 2, 2)


def test_bad_records_are_counted_and_the_store_still_acknowledged() -> None:
    session = ExchangeSession()
    reaction = session.handle(
        parse_message(b"Start@Store@000122806:15:31.82711 01  1D65725041300@junk@9@")
    )
    assert reaction.replies == (AckStore("racecontrol", 9),)
    assert reaction.detections == ()
    assert session.rejected_records == 2


def test_resends_on_another_connection_are_dropped_with_a_shared_memory() -> None:
    recent = RecentKeys()
    assert len(ExchangeSession(recent=recent).handle(STORE).detections) == 2
    other = ExchangeSession(recent=recent)
    assert other.handle(STORE).detections == ()
    assert other.duplicates == 2
    assert len(ExchangeSession().handle(STORE).detections) == 2  # a fresh memory


def test_recent_keys_forget_the_oldest() -> None:
    recent = RecentKeys(capacity=2)
    assert recent.add(1) and recent.add(2) and not recent.add(1)
    assert recent.add(3)  # forgets 1
    assert len(recent) == 2
    assert recent.add(1)
    with pytest.raises(ValueError):
        RecentKeys(capacity=0)


def test_v2_passings() -> None:
    with_date = make_passing("AB12345", 3_600_000_000, dt.date(2025, 4, 13), [("l", "2")])
    no_date = make_passing("0000039", 7_200_000_000)
    reaction = ExchangeSession().handle(Passing("10KM", (with_date, no_date), 1016))
    assert reaction.replies == (AckPassing("racecontrol", 1016),)
    assert reaction.detections == (
        # a dated and an undated passing are on two clocks: each its own newest
        Detection(
            "10KM",
            "AB12345",
            DAY + 3_600_000_000,
            None,
            "10KM",
            relative_clock=True,
            decoder_now_us=DAY + 3_600_000_000,
        ),
        Detection(
            "10KM",
            "0000039",
            7_200_000_000,
            None,
            "10KM",
            relative_clock=True,
            decoder_now_us=7_200_000_000,
        ),
    )


def test_markers_are_acknowledged_without_detections() -> None:
    marker = Marker("Start - Finish", ("2025-04-13 05:57:56.027|ext-gun|Extern gunshot",), 1)
    reaction = ExchangeSession().handle(marker)
    assert reaction.replies == (AckMarker("racecontrol", 1),)
    assert reaction.detections == ()


def test_locations_devices_and_everything_else() -> None:
    session = ExchangeSession()
    assert session.handle(GetLocations("Toolkit", ("Start", "5Km"))).replies == ()
    info = AckGetInfo("Start", ("PSD-0C0210", "Unknown", "Laptop-Hidde"))
    assert session.handle(info).replies == ()
    assert session.locations == {"Start": info.fields, "5Km": ()}
    assert session.handle(UnknownMessage("x", "Hello")) == session.handle(GetLocations("x"))
    assert session.handle(BadMessage(BadMessageReason.NO_FUNCTION, b"x")).replies == ()
    assert (session.messages, session.bad_messages) == (4, 1)
