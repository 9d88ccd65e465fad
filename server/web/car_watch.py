"""A spectator's watched car on ``/ws/live``: the car page's updates on the same socket.

Strategy: the browser sends ``{"watch": "12"}`` when it opens car 12's page or panel and
``{"watch": null}`` when it closes it (sending the same watch again asks for a fresh
snapshot). While it watches, the socket's own subscriber of the public channel also
gets the car channel's messages (``server.web.car_page``), each marked with the car:
``{"car": "12", "seq": ..., ...}``; ``live.js`` leaves them to ``car.js``. An unknown
car is answered ``{"car": "12", "none": 1}``. Spectators who watch no car get exactly
what they got before, and a car channel nobody watches is never rendered. A message
that is not a watch is not ours (``handle`` returns False).
"""

from __future__ import annotations

import json
from typing import Any

from server.service.hub import Channel, Subscriber
from server.web.car_page import MAX_NUMBER_LENGTH, car_channel_view, channel_name
from server.web.state import AppState


class Forward(Subscriber):
    """Puts a car channel's messages, marked with the car, into a spectator's queue."""

    def __init__(self, number: str, target: Subscriber, public: Channel) -> None:
        super().__init__(1)
        self.target, self.public = target, public
        self.prefix = '{"car":' + json.dumps(number) + ","

    def mark(self, message: str) -> str:
        return self.prefix + message[1:]  # every message is a JSON object

    def offer(self, message: str, snapshot: Any) -> None:
        # a full queue is replaced by the public snapshot: car.js sees the gap in the car's
        # numbers at its next message and watches again (a fresh car snapshot)
        self.target.offer(self.mark(message), lambda: self.public.snapshot)


def watch_request(text: str | None) -> tuple[bool, str | None]:
    """(True, number or None) for a watch message, (False, None) for anything else."""
    if not text or not text.startswith("{") or len(text) > 200:
        return False, None
    try:
        value = json.loads(text)
    except ValueError:
        return False, None
    if not isinstance(value, dict) or "watch" not in value:
        return False, None
    number = value["watch"]
    if isinstance(number, str) and 0 < len(number) <= MAX_NUMBER_LENGTH:
        return True, number
    return True, None  # null, or nothing that can be a car: watch nothing


class Watch:
    """One spectator's watched car: its car channel feeds the socket's own subscriber
    (``Forward``) until the watch changes or the socket closes. ``_watch`` finds the
    channel (the race service's, or an edge's mirror of it)."""

    def __init__(self, public: Channel, target: Subscriber) -> None:
        self.public, self.target = public, target
        self._watching: tuple[Channel, Forward] | None = None

    def handle(self, text: str | None) -> bool:
        """Act on a watch message; False if ``text`` is not one."""
        is_watch, number = watch_request(text)
        if not is_watch:
            return False
        self.close()
        if number is not None:
            self._watch(number)
        return True

    def _watch(self, number: str) -> None:
        raise NotImplementedError

    def _none(self, forward: Forward) -> None:
        """Says the car is not entered."""
        self.target.offer(forward.mark('{"none":1}'), lambda: self.public.snapshot)

    def _follow(self, channel: Channel, forward: Forward) -> None:
        channel.subscribers.add(forward)
        self._watching = (channel, forward)
        if channel.snapshot:
            forward.offer(channel.snapshot, "")

    def close(self) -> None:
        if self._watching is not None:
            channel, forward = self._watching
            channel.subscribers.discard(forward)
            self._watching = None


class CarWatch(Watch):
    def __init__(self, state: AppState, public: Channel, target: Subscriber) -> None:
        super().__init__(public, target)
        self.state = state

    def _watch(self, number: str) -> None:
        forward = Forward(number, self.target, self.public)
        hub = self.state.race.hub
        channel = hub.channels.get(channel_name(number))
        if channel is None or not channel.watched:
            # nobody watched it: render it now (a watched one is rendered with every update
            # of the public channel, so a thousand spectators opening it cost no render)
            view = car_channel_view(self.state.renderer, self.state.race, number)
            if view is None:
                self._none(forward)
                return
            channel = hub.channel(channel_name(number))
            channel.publish_view(view)
        self._follow(channel, forward)
