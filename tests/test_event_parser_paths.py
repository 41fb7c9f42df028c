"""The event parser's two decoders (msgspec fast path, orjson checking path) give one verdict.

Every line is parsed twice: as the loader does, and with the fast path switched off so the orjson
path decides alone. Rows and refusal reasons must be identical, and the fast path must really take
the ordinary lines (or this test would compare the orjson path with itself).
"""

from __future__ import annotations

import io
import json
import random
from datetime import date
from typing import Any

import msgspec
import pytest

from sparkify_assets.records import events as event_records
from sparkify_assets.records.events import EVENT_FIELDS, TEXT_LIMITS, EventFileParser
from tests.messy_source import BAD_EVENT_LINES, DAY_MS, event, line

DAY = date(2018, 11, 5)

# Values that probe each decoder's edges: types JSON can confuse, numbers at the limits of int32
# and of doubles, texts at their byte limits in ASCII and in multi-byte UTF-8, escapes.
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.0,
    1.5,
    2**31 - 1,
    2**31,
    -(2**31),
    -(2**31) - 1,
    2**53 + 1,
    2**63,
    10**30,
    1e300,
    "",
    "7",
    "007",
    "12345678901",
    "-3",
    " 7",
    "٣",  # an Arabic-Indic digit: str.isdigit() says yes
    "free",
    "é" * 8,
    "é" * 9,
    "€" * 5,
    "€" * 6,
    "x" * 16,
    "x" * 17,
    "é" * 256,
    "é" * 257,
    "a\u0000b",
    'quote " and backslash \\',
    "tab\tnew\nline",
    "\u2028",
    [],
    {},
    {"nested": [1, 2]},
]


def _corpus(seed: int, size: int) -> list[bytes]:
    rng = random.Random(seed)
    lines: list[bytes] = [raw for raw, _ in BAD_EVENT_LINES]
    for item in range(size):
        record: dict[str, Any] = event(item % 500)
        for _ in range(rng.choice((0, 1, 1, 2))):
            name = rng.choice(EVENT_FIELDS)
            choice = rng.random()
            if choice < 0.1:
                record.pop(name, None)
            elif choice < 0.2 and name in TEXT_LIMITS:
                limit = TEXT_LIMITS[name]
                record[name] = rng.choice("aé€😀") * rng.choice((limit // 4, limit // 2, limit))
            elif choice < 0.3:
                record[name] = DAY_MS + rng.choice((-1, 0, 86_399_999, 86_400_000))
            else:
                record[name] = rng.choice(ODD_VALUES)
        if rng.random() < 0.05:
            record["unknownField"] = rng.choice(ODD_VALUES)
        encoded = (
            line(record)
            if rng.random() < 0.5
            else json.dumps(record, ensure_ascii=True).encode()  # \\u escapes everywhere
        )
        if rng.random() < 0.03:
            encoded = encoded.replace(b"{", b'{"ts": 1, ', 1)  # a repeated key
        lines.append(encoded)
    lines.append(b"{" * 100_000)
    lines.append(b'{"a":' * 100_000)
    lines.append(b'{"userId": "\xed\xa0\x80"}')  # an encoded surrogate: invalid UTF-8
    return lines


def _parse(lines: list[bytes]) -> tuple[list[tuple[object, ...]], list[tuple[int, str]]]:
    parser = EventFileParser(DAY, "log_data/2018/11/2018-11-05-events.json")
    rows = list(parser.rows(io.BytesIO(b"\n".join(lines) + b"\n")))
    return rows, [(r.line_number, r.reason) for r in parser.rejected]


def _refuse_everything(_: bytes) -> object:
    raise msgspec.DecodeError("fast path switched off")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_decoders_give_the_same_rows_and_reasons(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = _corpus(seed, 3_000)
    rows, refusals = _parse(lines)

    with monkeypatch.context() as patched:
        patched.setattr(event_records, "_fast_decode", _refuse_everything)
        checked_rows, checked_refusals = _parse(lines)

    assert refusals == checked_refusals
    assert len(rows) == len(checked_rows)
    for row, checked in zip(rows, checked_rows, strict=True):
        assert row == checked
        # Same values and the same Python types: 3 and 3.0 would be equal, but not identical text
        # in COPY.
        assert [type(value) for value in row] == [type(value) for value in checked]
    assert len(rows) > 500 and len(refusals) > 500  # the corpus exercises both verdicts


def test_the_fast_path_takes_ordinary_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    decode = event_records._fast_decode

    def counting(record: bytes) -> object:
        nonlocal calls
        calls += 1
        return decode(record)

    monkeypatch.setattr(event_records, "_fast_decode", counting)
    checked = 0
    original = EventFileParser._checked_values

    def counting_checked(self: EventFileParser, record: bytes) -> tuple[Any, ...]:
        nonlocal checked
        checked += 1
        return original(self, record)

    monkeypatch.setattr(EventFileParser, "_checked_values", counting_checked)
    ordinary = [line(event(item, artist="Beyoncé")) for item in range(100)]
    rows, refusals = _parse(ordinary)
    assert (len(rows), refusals) == (100, [])
    assert (calls, checked) == (100, 0)
