"""The users: identities, levels and how often each one listens."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sparkify_assets.sample_data.clock import DAY_MS, midnight_ms
from sparkify_assets.sample_data.free_text import FIRST_NAMES, LAST_NAMES
from sparkify_assets.sample_data.spec import SampleSpec

_LOCATIONS = (
    "San Jose-Sunnyvale-Santa Clara, CA", "New York-Newark-Jersey City, NY-NJ-PA",
    "Chicago-Naperville-Elgin, IL-IN-WI", "Atlanta-Sandy Springs-Roswell, GA",
    "Portland-South Portland, ME", "Lansing-East Lansing, MI",
    "Tampa-St. Petersburg-Clearwater, FL",
    "Winston-Salem, NC", "Houston-The Woodlands-Sugar Land, TX", "Red Bluff, CA",
    "Seattle-Tacoma-Bellevue, WA", "Janesville-Beloit, WI", "Birmingham-Hoover, AL",
    "Philadelphia-Camden-Wilmington, PA-NJ-DE-MD", "Salinas, CA", "Santa Maria-Santa Barbara, CA",
)  # fmt: skip
_USER_AGENTS = (
    '"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) '
    'Chrome/36.0.1985.143 Safari/537.36"',
    '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) '
    'Chrome/36.0.1985.125 Safari/537.36"',
    '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.77.4 (KHTML, like Gecko) '
    'Version/7.0.5 Safari/537.77.4"',
    '"Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 '
    '(KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53"',
    '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) '
    'Ubuntu Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36"',
    '"Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; rv:11.0) like Gecko"',
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0",
)


@dataclass(slots=True)
class User:
    user_id: str
    # firstName, gender, lastName, location, registration, userAgent
    identity: tuple[str, str, str, str, float, str]
    level: str
    weight: float
    back_on_day: int = 0  # after a cancellation: the first day the user is active again


def build_users(rng: random.Random, spec: SampleSpec) -> list[User]:
    start_ms = midnight_ms(spec.start)
    numbers = sorted(rng.sample(range(2, 10 * spec.users + 10), spec.users))
    ranks = list(range(spec.users))
    rng.shuffle(ranks)
    users = []
    for index, number in enumerate(numbers):
        registered = start_ms - rng.randint(3_600_000, 240 * DAY_MS)
        identity = (
            rng.choice(FIRST_NAMES),
            "F" if rng.random() < 0.5 else "M",
            rng.choice(LAST_NAMES),
            rng.choice(_LOCATIONS),
            float(registered),
            rng.choice(_USER_AGENTS),
        )
        # The first user starts free (the tour session upgrades, then downgrades, them).
        level = "free" if index == 0 or rng.random() < 0.7 else "paid"
        users.append(User(str(number), identity, level, 1.0 / (ranks[index] + 1) ** 0.7))
    return users
