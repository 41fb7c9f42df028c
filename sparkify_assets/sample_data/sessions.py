"""Each day's sessions: what users and guests do, page by page, and when in the UTC day."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from sparkify_assets.sample_data.clock import DAY_MS
from sparkify_assets.sample_data.plays import Play, PlayPicker
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.sample_data.users import User

# Pages: (method, status). A 307 is a redirect: the next event of the session shares its ts.
PAGE_HTTP: dict[str, tuple[str, int]] = {
    "NextSong": ("PUT", 200),
    "Home": ("GET", 200),
    "Login": ("PUT", 307),
    "Logout": ("PUT", 307),
    "Settings": ("GET", 200),
    "Save Settings": ("PUT", 307),
    "Upgrade": ("GET", 200),
    "Submit Upgrade": ("PUT", 307),
    "Downgrade": ("GET", 200),
    "Submit Downgrade": ("PUT", 307),
    "Help": ("GET", 200),
    "About": ("GET", 200),
    "Error": ("GET", 404),
    "Cancel": ("PUT", 307),
    "Cancellation Confirmation": ("GET", 200),
}

_LOGGED_IN = "Logged In"
_LOGGED_OUT = "Logged Out"
_GUEST = "Guest"
_CANCELLED = "Cancelled"
ANONYMOUS = (_LOGGED_OUT, _GUEST)

# What a logged-in user does next, besides playing a song (weights per step of a session).
_ACTIONS: tuple[tuple[str, float], ...] = (
    ("Home", 0.050),
    ("Settings", 0.020),
    ("Help", 0.012),
    ("About", 0.008),
    ("Error", 0.004),
    ("Upgrade", 0.016),  # the Downgrade page for a paid user
    ("Logout", 0.015),
    ("Cancel", 0.0005),
)
_ACTION_NAMES = tuple(name for name, _ in _ACTIONS)
_ACTION_CUMULATIVE = tuple(accumulate(weight for _, weight in _ACTIONS))
_SUBMIT_UPGRADE_SHARE = 0.3
_SUBMIT_DOWNGRADE_SHARE = 0.2
_SAVE_SETTINGS_SHARE = 0.5
_LOGIN_AGAIN_SHARE = 0.7
_GUEST_SESSION_SHARE = 0.03
_MEAN_SESSION_EVENTS = 18.0
_MAX_SESSION_EVENTS = 150

# A first session (day one, first user) visiting every page, so small specs hold every quirk.
_TOUR: tuple[tuple[str, str], ...] = (
    ("Home", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
    ("Settings", _LOGGED_IN),
    ("Save Settings", _LOGGED_IN),
    ("Home", _LOGGED_IN),
    ("Help", _LOGGED_IN),
    ("About", _LOGGED_IN),
    ("Error", _LOGGED_IN),
    ("Upgrade", _LOGGED_IN),
    ("Submit Upgrade", _LOGGED_IN),
    ("Home", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
    ("Downgrade", _LOGGED_IN),
    ("Submit Downgrade", _LOGGED_IN),
    ("Home", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
    ("Logout", _LOGGED_IN),
    ("Home", _LOGGED_OUT),
    ("Login", _LOGGED_OUT),
    ("Home", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
)


# A planned event: (page, auth, level, play or None, ms since the session's previous event).
Planned = tuple[str, str, str, Play | None, int]


@dataclass(slots=True)
class Session:
    user: User | None  # None: a guest
    events: list[Planned] = field(default_factory=list)
    start: int = 0  # ms after midnight
    order: int = 0  # position in the day's plan, breaks ties of start

    def span(self) -> int:
        return sum(event[4] for event in self.events)


class SessionPlanner:
    """Plans each day's sessions: who, which pages and plays, and when."""

    def __init__(
        self, rng: random.Random, spec: SampleSpec, users: list[User], plays: PlayPicker
    ) -> None:
        self._rng = rng
        self._spec = spec
        self._users = users
        self._plays = plays

    def day_counts(self) -> list[int]:
        """Events per day: +-30% around the average, adding up to days * events_per_day."""
        days, average = self._spec.days, self._spec.events_per_day
        swings = [self._rng.uniform(-0.3, 0.3) for _ in range(days)]
        mean = sum(swings) / days
        swings = [swing - mean for swing in swings]
        peak = max(abs(swing) for swing in swings)
        if peak > 0.3:
            swings = [swing * 0.3 / peak for swing in swings]
        counts = []
        target = 0.0
        written = 0
        for swing in swings:
            target += average * (1.0 + swing)
            now = round(target)
            counts.append(max(1, now - written))
            written = max(now, written + 1)
        return counts

    def plan_day(self, index: int, count: int) -> list[Session]:
        """Day ``index``'s sessions (``count`` events in all), placed in the day and sorted by
        start."""
        sessions = self._plan_day(index, count)
        self._place(sessions)
        sessions.sort(key=lambda s: (s.start, s.order))
        return sessions

    # -- planning -------------------------------------------------------------------------------

    def _plan_day(self, index: int, count: int) -> list[Session]:
        rng = self._rng
        users = self._users
        active = [user for user in users if user.back_on_day <= index]
        cumulative = list(accumulate(user.weight for user in active))
        sessions: list[Session] = []
        remaining = count
        if index == 0 and count >= 3 * len(_TOUR) and users[0] in active:
            tour = self._user_session(users[0], len(_TOUR), index, script=_TOUR)
            guest = self._guest_session(3)
            sessions += [tour, guest]
            remaining -= len(tour.events) + len(guest.events)
        while remaining > 0:
            if rng.random() < _GUEST_SESSION_SHARE or not active:
                session = self._guest_session(min(remaining, 1 + int(rng.random() * 4)))
            else:
                user = active[bisect_right(cumulative, rng.random() * cumulative[-1])]
                wanted = 1 + int(rng.expovariate(1.0 / _MEAN_SESSION_EVENTS))
                length = min(remaining, wanted, _MAX_SESSION_EVENTS)
                may_cancel = len(users) >= 3 and 2 * len(active) > len(users) + 2
                session = self._user_session(user, length, index, may_cancel=may_cancel)
                if user.back_on_day > index:  # cancelled: no more sessions for now
                    active.remove(user)
                    cumulative = list(accumulate(u.weight for u in active))
            sessions.append(session)
            remaining -= len(session.events)
        for order, session in enumerate(sessions):
            session.order = order
        return sessions

    def _next_gap(self, page: str, play: Play | None) -> int:
        """Milliseconds until the session's next event."""
        if PAGE_HTTP[page][1] == 307:
            return 0  # a redirect: the page it leads to has the same ts
        rng = self._rng
        if play is not None:
            listened = play[2] if rng.random() < 0.8 else play[2] * (0.1 + 0.8 * rng.random())
            return int(listened * 1000) + int(rng.random() * 2000) + 1
        return 1000 + int(rng.random() * 40_000)

    def _guest_session(self, length: int) -> Session:
        rng = self._rng
        session = Session(None)
        gap = 0
        for position in range(length):
            page = "Home" if position == 0 else rng.choice(("Home", "About", "Help", "Error"))
            session.events.append((page, _GUEST, "free", None, gap))
            gap = self._next_gap(page, None)
        return session

    def _user_session(
        self,
        user: User,
        length: int,
        day_index: int,
        *,
        may_cancel: bool = False,
        script: Sequence[tuple[str, str]] = (),
    ) -> Session:
        """Up to ``length`` events of one user, following ``script`` if given. The user's level
        changes after a Submit Upgrade/Downgrade; a cancellation ends the session and sends the
        user away for one to four weeks."""
        rng = self._rng
        events: list[Planned] = []
        level = user.level
        gap = 0
        pick = self._plays.pick

        def add(page: str, auth: str) -> None:
            nonlocal gap, level
            play = pick() if page == "NextSong" else None
            events.append((page, auth, level, play, gap))
            gap = self._next_gap(page, play)
            if page == "Submit Upgrade":
                level = "paid"
            elif page == "Submit Downgrade":
                level = "free"

        def add_all(pages: Sequence[tuple[str, str]]) -> None:
            for page, auth in pages:
                if len(events) < length:
                    add(page, auth)

        if script:
            add_all(script)
            user.level = level
            return Session(user, events)

        opening = rng.random()
        if opening < 0.08:
            add_all((("Home", _LOGGED_OUT), ("Login", _LOGGED_OUT), ("Home", _LOGGED_IN)))
        elif opening < 0.4:
            add("Home", _LOGGED_IN)
        next_song_share = 1.0 - _ACTION_CUMULATIVE[-1]
        while len(events) < length:
            draw = rng.random()
            if draw < next_song_share:
                add("NextSong", _LOGGED_IN)
                continue
            action = _ACTION_NAMES[
                min(
                    bisect_right(_ACTION_CUMULATIVE, draw - next_song_share),
                    len(_ACTION_NAMES) - 1,
                )
            ]
            if action == "Settings":
                add("Settings", _LOGGED_IN)
                if rng.random() < _SAVE_SETTINGS_SHARE:
                    add_all((("Save Settings", _LOGGED_IN), ("Home", _LOGGED_IN)))
            elif action == "Upgrade" and level == "free":
                add("Upgrade", _LOGGED_IN)
                if rng.random() < _SUBMIT_UPGRADE_SHARE:
                    add_all((("Submit Upgrade", _LOGGED_IN), ("Home", _LOGGED_IN)))
            elif action == "Upgrade":
                add("Downgrade", _LOGGED_IN)
                if rng.random() < _SUBMIT_DOWNGRADE_SHARE:
                    add_all((("Submit Downgrade", _LOGGED_IN), ("Home", _LOGGED_IN)))
            elif action == "Logout":
                add_all((("Logout", _LOGGED_IN), ("Home", _LOGGED_OUT)))
                if rng.random() >= _LOGIN_AGAIN_SHARE:
                    break
                add_all((("Login", _LOGGED_OUT), ("Home", _LOGGED_IN)))
            elif action == "Cancel":
                if not may_cancel or len(events) + 2 > length:
                    continue
                add_all((("Cancel", _LOGGED_IN), ("Cancellation Confirmation", _CANCELLED)))
                user.back_on_day = day_index + rng.randint(7, 28)
                break
            else:
                add(action, _LOGGED_IN)
        user.level = level
        return Session(user, events)

    def _place(self, sessions: list[Session]) -> None:
        """Sets each session's start: a user's sessions keep their order, do not overlap and end
        on the same UTC day; a busy user's gaps shrink to fit."""
        rng = self._rng
        per_user: dict[str, list[Session]] = {}
        for session in sessions:
            if session.user is None:
                span = session.span()
                session.start = int(rng.random() * max(1, DAY_MS - span))
            else:
                per_user.setdefault(session.user.user_id, []).append(session)
        for own in per_user.values():  # insertion order: deterministic
            spans = [session.span() for session in own]
            room = DAY_MS - 1 - 1000 * (len(own) - 1)
            if sum(spans) > 0.95 * room:
                factor = 0.95 * room / sum(spans)
                for session in own:
                    session.events = [
                        (page, auth, level, play, max(1, int(gap * factor)) if gap else 0)
                        for page, auth, level, play, gap in session.events
                    ]
                spans = [session.span() for session in own]
                if sum(spans) > room:
                    raise ValueError(
                        "too many events per user and day to fit in one day: "
                        "raise users or lower events_per_day"
                    )
            slack = room - sum(spans)
            shares = [rng.random() + 0.01 for _ in range(len(own) + 1)]
            total_share = sum(shares)
            at = 0
            for session, span, share in zip(own, spans, shares, strict=False):
                at += int(slack * share / total_share)
                session.start = at
                at += span + 1000
