"""The free text of the sample data: people, artist names and song titles, with the real data's
unicode, quotes, ``&``, ``feat.`` and slashes."""

from __future__ import annotations

import random

FIRST_NAMES = (
    "Lily", "Jacob", "Chloé", "Ava", "Mohammad", "Kaylee", "Aiden", "Zoë", "Jayden", "Sofía",
    "Ryan", "Layla", "Noah", "Søren", "Isabella", "Tegan", "Matthew", "José", "Amélie", "Ethan",
    "Jordan", "Maia", "Lucas", "Anaïs", "Theo", "Ingrid", "Kai", "Renée", "Elijah", "Mila",
)  # fmt: skip
LAST_NAMES = (
    "Koch", "Hicks", "Levine", "Garrison", "Rodriguez", "O'Brien", "Nguyen", "García", "Müller",
    "Cuevas", "Lynch", "Kowalski", "Patel", "Tremblay", "Lindqvist", "Henderson", "Moreau", "Silva",
    "Okafor", "Brennan", "Ishikawa", "Novák", "Fischer", "Dubois", "Reyes", "Castro", "Stone",
)  # fmt: skip
_ADJECTIVES = (
    "Midnight", "Velvet", "Neon", "Crimson", "Silver", "Paper", "Glass", "Wild", "Lunar", "Static",
    "Golden", "Hollow", "Electric", "Quiet", "Broken", "Northern", "Sleepy", "Burning", "Blue",
    "Lonely", "Distant", "Sweet", "Frozen", "Restless", "Little", "Analog", "Secret", "Copper",
)  # fmt: skip
_NOUNS = (
    "Foxes", "Parade", "Orchestra", "Collective", "Riders", "Lights", "Machines", "Sisters",
    "Kings", "Ghosts", "Harbor", "Echoes", "Rivers", "Satellites", "Wolves", "Gardens", "Engines",
    "Tides",
    "Strangers", "Mirrors", "Horses", "Circus", "Pilots", "Comets", "Choir", "Avenue", "Brothers",
)  # fmt: skip
_FOREIGN_ARTISTS = (
    "Björn Åström", "Los Niños del Sol", "Sigrún Þórsdóttir", "Jean-Loup Bérénice", "Ærø Trio",
    "Mötörväg", "Kōji Tanaka", "Дмитрий Волков", "東京 Lights", "Ça Va Quartet", "Zoë Marchand",
    "Żaneta & Łukasz", "Niña Peña", "Øystein Brødrene", "Renée Fleur", "Façade Ensemble",
)  # fmt: skip
_TITLE_WORDS = (
    "Heart", "Summer", "Train", "Window", "Fire", "Dancing", "Rain", "Highway", "Morning",
    "Shadow", "Letter", "Ocean", "Promise", "Dream", "City", "Stars", "Road", "Song", "Night",
    "Home", "Mountain", "Angel", "Thunder", "Memory", "Garden", "River", "Love", "Time", "Island",
)  # fmt: skip
_FOREIGN_TITLES = (
    "Corazón", "Déjà Vu", "Mañana", "Über den Wolken", "Smörgåsbord", "Crème Brûlée", "Fête",
    "Sommarnätter", "Łódź Nights", "Ça Plane", "Ödland", "Niño Perdido", "Café Olé", "Åsgårdsreien",
    "夜の海", "Песня", "Naïve Mélodie", "São Paulo", "Göttingen Blues", "Résumé",
)  # fmt: skip
_VERSIONS = (" (Live)", " (Album Version)", " (Remastered)", " (Acoustic)", " (Radio Edit)")


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def artist_name(rng: random.Random) -> str:
    """Free text like the real names: unicode, quotes, ``&``, ``feat.``."""
    form = rng.random()
    if form < 0.22:
        return f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if form < 0.42:
        return person(rng)
    if form < 0.54:
        return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if form < 0.64:
        return f"{person(rng)} & The {rng.choice(_NOUNS)}"
    if form < 0.72:
        return f"{person(rng)} feat. {person(rng)}"
    if form < 0.78:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        return f'{first} "{rng.choice(_ADJECTIVES)}" {last}'
    if form < 0.84:
        return f"DJ {rng.choice(_ADJECTIVES)}"
    return rng.choice(_FOREIGN_ARTISTS) + ("" if rng.random() < 0.5 else f" {rng.choice(_NOUNS)}")


def song_title(rng: random.Random) -> str:
    """Free text like the real titles: unicode, quotes, ``&``, ``feat.``, slashes."""
    word, other = rng.choice(_TITLE_WORDS), rng.choice(_TITLE_WORDS)
    form = rng.random()
    if form < 0.25:
        return f"{rng.choice(_ADJECTIVES)} {word}"
    if form < 0.40:
        return f"The {word} {other}"
    if form < 0.48:
        return f"{word} (feat. {person(rng)})"
    if form < 0.54:
        return f'"{word}"'
    if form < 0.60:
        return f"{word} & {other}"
    if form < 0.65:
        return f"{word} / {other}"
    if form < 0.72:
        return f"{word}{rng.choice(_VERSIONS)}"
    if form < 0.84:
        return rng.choice(_FOREIGN_TITLES) + ("" if rng.random() < 0.4 else f" {word}")
    return f"{word} Of {rng.choice(_ADJECTIVES)} {other}s"
