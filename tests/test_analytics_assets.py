"""The analytics assets after a full build on a real PostgreSQL, checked against answers computed
independently in plain Python from the raw files (tests/reference_warehouse.py)."""

from __future__ import annotations

import base64
import re
import struct
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlglot

from sparkify_assets.analytics.charts import (
    AnswerColumn,
    free_vs_paid_chart,
    markdown_table,
    plays_per_period,
)
from sparkify_assets.analytics.questions import QUESTIONS as ANSWERED_QUESTIONS
from sparkify_assets.commands.build import build_warehouse
from sparkify_assets.definitions import defs
from sparkify_assets.defs import analytics_assets
from sparkify_assets.defs.asset_groups import TABLE_ASSETS
from sparkify_assets.defs.resources import WarehouseResource
from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.warehouse.sql_files import SqlStatement, load_file, sql_root
from tests.conftest import new_database, resources_for
from tests.reference_warehouse import ReferenceWarehouse, reference_warehouse

# Five days across a new year: two years, two months, so "per year and month" is really tested.
NEW_YEAR_SPEC = SampleSpec(
    seed=11, start=date(2018, 12, 29), days=5, events_per_day=150, users=25, catalog_songs=60
)

COLUMNS: dict[str, tuple[AnswerColumn, ...]] = {
    question.name: question.columns for question in ANSWERED_QUESTIONS
}
QUESTIONS = sorted(COLUMNS)
ANALYTICS = dg.AssetSelection.groups("analytics")


# ------------------------------------------------------------------- the independent computation


def _pct(part: int, whole: int) -> Decimal:
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def expected_answers(ref: ReferenceWarehouse) -> dict[str, list[dict[str, Any]]]:
    """Every question's rows, from the reference tables (tuples in STAR_COLUMNS order)."""
    plays = [
        {"start": p[1], "user": p[2], "level": p[3], "song": p[4], "artist": p[5], "session": p[6]}
        for p in ref.songplays
    ]
    users = {u[0]: u for u in ref.users}
    songs = {s[0]: s for s in ref.songs}
    artists = {a[0]: a for a in ref.artists}

    identified = [p for p in plays if p["user"] is not None]
    per_user = Counter(p["user"] for p in identified)
    sessions: dict[int, set[int]] = defaultdict(set)
    for p in identified:
        sessions[p["user"]].add(p["session"])
    top_users = sorted(per_user, key=lambda u: (-per_user[u], u))[:10]
    most_active = [
        {
            "user_id": u,
            "first_name": users[u][1],
            "last_name": users[u][2],
            "level": users[u][4],
            "plays": per_user[u],
            "sessions": len(sessions[u]),
            "share_of_plays_pct": _pct(per_user[u], len(identified)),
        }
        for u in top_users
    ]

    per_hour = Counter(p["start"].hour for p in plays)
    by_hour = [
        {"hour": h, "plays": n, "share_of_plays_pct": _pct(n, len(plays))}
        for h, n in sorted(per_hour.items())
    ]

    def top_per_month(key: str) -> dict[tuple[int, int], list[tuple[str, int, int]]]:
        counts: Counter[tuple[int, int, str]] = Counter(
            (p["start"].year, p["start"].month, p[key]) for p in plays if p[key] is not None
        )
        months: dict[tuple[int, int], list[tuple[str, int, int]]] = defaultdict(list)
        for (year, month, item), n in counts.items():
            months[(year, month)].append((item, n, 0))
        return {
            m: [
                (item, n, rank)
                for rank, (item, n, _) in enumerate(sorted(v, key=lambda x: (-x[1], x[0]))[:5], 1)
            ]
            for m, v in sorted(months.items())
        }

    top_songs = [
        {
            "year": year,
            "month": month,
            "song_rank": rank,
            "song_id": song,
            "title": songs[song][1],
            "artist_name": artists[songs[song][2]][1] if songs[song][2] in artists else None,
            "plays": n,
        }
        for (year, month), ranked in top_per_month("song").items()
        for song, n, rank in ranked
    ]
    song_sets: dict[tuple[int, int, str], set[str]] = defaultdict(set)
    for p in plays:
        if p["artist"] is not None:
            song_sets[(p["start"].year, p["start"].month, p["artist"])].add(p["song"])
    top_artists = [
        {
            "year": year,
            "month": month,
            "artist_rank": rank,
            "artist_id": artist,
            "artist_name": artists[artist][1],
            "plays": n,
            "distinct_songs": len(song_sets[(year, month, artist)]),
        }
        for (year, month), ranked in top_per_month("artist").items()
        for artist, n, rank in ranked
    ]

    per_day: dict[date, Counter[str]] = defaultdict(Counter)
    for p in plays:
        per_day[p["start"].date()][p["level"]] += 1
    free_vs_paid = [
        {
            "play_date": day,
            "free_plays": c["free"],
            "paid_plays": c["paid"],
            "plays": c.total(),
            "paid_share_pct": _pct(c["paid"], c.total()),
        }
        for day, c in sorted(per_day.items())
    ]
    return {
        "most_active_users": most_active,
        "plays_by_hour": by_hour,
        "top_songs_by_month": top_songs,
        "top_artists_by_month": top_artists,
        "free_vs_paid_plays": free_vs_paid,
    }


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def new_year_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("new_year_source")
    write_sample_source(root, NEW_YEAR_SPEC)
    return root


@pytest.fixture(scope="module")
def expected(new_year_source: Path) -> dict[str, list[dict[str, Any]]]:
    return expected_answers(reference_warehouse(new_year_source))


@pytest.fixture(scope="module")
def built_url(postgres_admin_url: str, new_year_source: Path) -> Iterator[str]:
    """A database holding the whole star schema of NEW_YEAR_SPEC, built through Dagster."""
    with new_database(postgres_admin_url) as url:
        assert build_warehouse(defs, resources=resources_for(url, new_year_source)).succeeded
        yield url


@pytest.fixture(scope="module")
def analytics_run(built_url: str, new_year_source: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        selection=ANALYTICS,
        resources=resources_for(built_url, new_year_source),
    )


def _materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    return {
        event.materialization.asset_key.to_user_string(): dict(event.materialization.metadata)
        for event in result.get_asset_materialization_events()
    }


def _table_cells(markdown: str) -> list[list[str]]:
    """The body cells of a markdown table (header and alignment rows dropped), unescaped."""
    rows = []
    for line in markdown.splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
        rows.append([re.sub(r"\\(.)", r"\1", c.strip()) for c in cells])
    return rows


def _expected_cell(value: object, column: AnswerColumn) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:.1f}"
    if isinstance(value, int) and column.type == "BIGINT":
        return f"{value:,}"
    return str(value)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _chart_png(metadata: dict[str, Any]) -> bytes:
    match = re.fullmatch(
        r"!\[[^\]]*\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", metadata["chart"].value
    )
    assert match, "the chart is not a markdown image with a PNG data: URI"
    return base64.b64decode(match.group(1), validate=True)


# -------------------------------------------------------------------------------------- tests


def test_the_sample_spans_two_years_and_months(expected: dict[str, list[dict[str, Any]]]) -> None:
    months = {(r["year"], r["month"]) for r in expected["top_songs_by_month"]}
    assert months == {(2018, 12), (2019, 1)}
    assert len(expected["most_active_users"]) == 10


@pytest.mark.parametrize("question", QUESTIONS)
def test_query_answers_match_independent_computation(
    built_url: str, expected: dict[str, list[dict[str, Any]]], question: str
) -> None:
    """The SQL file, run as analysts run it, gives exactly the reference's answer."""
    with WarehouseResource(url=built_url).open() as warehouse:
        rows = warehouse.query(analytics_assets._question_sql(question))
    assert rows, f"{question} returned no rows"
    assert list(rows[0]) == [c.name for c in COLUMNS[question]]
    assert rows == expected[question]


@pytest.mark.parametrize("question", QUESTIONS)
def test_materialization_shows_answer_table_chart_and_row_count(
    analytics_run: dg.ExecuteInProcessResult,
    expected: dict[str, list[dict[str, Any]]],
    question: str,
) -> None:
    assert analytics_run.success
    metadata = _materializations(analytics_run)[question]
    columns = COLUMNS[question]
    assert metadata["dagster/row_count"].value == len(expected[question])
    answer = metadata["answer"].value
    assert answer.splitlines()[0] == "| " + " | ".join(c.name for c in columns) + " |"
    assert _table_cells(answer) == [
        [_expected_cell(row[c.name], c) for c in columns] for row in expected[question]
    ]
    width, height = _png_size(_chart_png(metadata))
    assert width == 800 and 150 < height < 2000


def test_every_analytics_asset_is_materialized_in_one_run(
    analytics_run: dg.ExecuteInProcessResult,
) -> None:
    assert sorted(_materializations(analytics_run)) == QUESTIONS


def test_a_subset_is_one_step_and_a_failing_question_does_not_stop_the_others(
    built_url: str, new_year_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answers are one step (queries side by side) that computes any subset; a question whose
    query fails is named in the step's failure, the others are still recorded."""
    real_sql = analytics_assets._question_sql

    def sql(question: str) -> SqlStatement:
        if question == "plays_by_hour":
            return replace(real_sql(question), text="SELECT 1 AS not_a_documented_column")
        if question == "top_songs_by_month":
            return replace(real_sql(question), text="SELECT * FROM no_such_table")
        return real_sql(question)

    monkeypatch.setattr(analytics_assets, "_question_sql", sql)
    subset = ["plays_by_hour", "most_active_users", "top_songs_by_month", "free_vs_paid_plays"]
    result = dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        selection=subset,
        resources=resources_for(built_url, new_year_source),
        raise_on_error=False,
    )
    assert not result.success
    assert sorted(_materializations(result)) == ["free_vs_paid_plays", "most_active_users"]
    [failure] = result.get_step_failure_events()
    message = str(failure.event_specific_data.user_failure_data.description)  # type: ignore[union-attr]
    assert "plays_by_hour: sql/analytics/plays_by_hour.sql returned columns" in message
    assert "top_songs_by_month: " in message and "no_such_table" in message
    assert len(result.get_step_success_events()) == 0


def test_one_failing_question_is_named_and_a_failing_chart_stops_only_its_answer(
    built_url: str, new_year_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One failure still names its question (the step's key names none of them), and a chart
    that cannot be drawn fails its own answer, not the ones after it."""
    real_sql = analytics_assets._question_sql

    def sql(question: str) -> SqlStatement:
        if question == "most_active_users":  # the first question: the others come after it
            return replace(real_sql(question), text="SELECT * FROM no_such_table")
        return real_sql(question)

    monkeypatch.setattr(analytics_assets, "_question_sql", sql)
    resources = resources_for(built_url, new_year_source)
    result = dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        selection=ANALYTICS,
        resources=resources,
        raise_on_error=False,
    )
    assert not result.success
    assert sorted(_materializations(result)) == sorted(set(QUESTIONS) - {"most_active_users"})
    [failure] = result.get_step_failure_events()
    message = str(failure.event_specific_data.user_failure_data.description)  # type: ignore[union-attr]
    assert message.startswith("most_active_users: ") and "no_such_table" in message

    monkeypatch.setattr(analytics_assets, "_question_sql", real_sql)
    [plays_by_hour] = [q for q in ANSWERED_QUESTIONS if q.name == "plays_by_hour"]

    def broken_chart(rows: object) -> bytes:
        raise ValueError("no canvas")

    monkeypatch.setattr(
        analytics_assets,
        "QUESTIONS",
        [replace(q, chart=broken_chart) if q is plays_by_hour else q for q in ANSWERED_QUESTIONS],
    )
    result = dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        selection=ANALYTICS,
        resources=resources,
        raise_on_error=False,
    )
    assert sorted(_materializations(result)) == sorted(set(QUESTIONS) - {"plays_by_hour"})
    [failure] = result.get_step_failure_events()
    message = str(failure.event_specific_data.user_failure_data.description)  # type: ignore[union-attr]
    assert message == "plays_by_hour: no canvas"


def test_empty_star_schema_gives_empty_answers_not_failures(
    warehouse_url: str, small_source: Path
) -> None:
    with WarehouseResource(url=warehouse_url).open() as warehouse:
        warehouse.ensure_tables()
    result = dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        selection=ANALYTICS,
        resources=resources_for(warehouse_url, small_source),
    )
    assert result.success
    for question, metadata in _materializations(result).items():
        assert metadata["dagster/row_count"].value == 0, question
        assert "No rows" in metadata["answer"].value
        _png_size(_chart_png(metadata))


def test_definitions_present_the_analytics_assets_for_analysts() -> None:
    graph = defs.resolve_asset_graph()
    star = set(TABLE_ASSETS) - {"staging_events", "staging_songs"}
    for question in QUESTIONS:
        node = graph.get(dg.AssetKey(question))
        assert node.group_name == "analytics"
        assert node.owners == ["team:analytics"]
        assert {"postgres", "redshift"} <= node.kinds
        assert node.description and f"sql/analytics/{question}.sql" in node.description
        parents = {k.to_user_string() for k in node.parent_keys}
        assert parents and parents <= star
        assert not node.is_partitioned
        schema = node.metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] == [c.name for c in COLUMNS[question]]
        assert all(c.description for c in schema.columns)
        references = node.metadata["dagster/code_references"].code_references
        sql_refs = [r for r in references if r.file_path.endswith(f"analytics/{question}.sql")]
        assert sql_refs and Path(sql_refs[0].file_path).is_file()


FORBIDDEN = {
    "a :: cast": r"::",
    "ILIKE": r"\bILIKE\b",
    "a FILTER clause": r"\bFILTER\s*\(",
    "DISTINCT ON": r"\bDISTINCT\s+ON\b",
    "a parameter": r"%\(",
}


@pytest.mark.parametrize("question", QUESTIONS)
def test_sql_files_run_unchanged_on_postgres_and_redshift(question: str) -> None:
    path = sql_root() / "analytics" / f"{question}.sql"
    assert path.is_file()
    statements = load_file(f"analytics/{question}")
    assert list(statements) == [question], "one statement per file, named like the file"
    sql = statements[question]
    assert sql.doc, "document the question in the comment lines after the name line"
    code = "\n".join(line.split("--", 1)[0] for line in sql.text.splitlines())
    for what, pattern in FORBIDDEN.items():
        assert not re.search(pattern, code, re.IGNORECASE), f"{question} uses {what}"
    for dialect in ("redshift", "postgres"):
        parsed = sqlglot.parse(code, read=dialect)
        assert len(parsed) == 1 and parsed[0] is not None


def test_every_analytics_sql_file_has_an_asset() -> None:
    files = sorted(p.stem for p in (sql_root() / "analytics").glob("*.sql"))
    assert files == QUESTIONS


def test_markdown_table_escapes_pipes_and_caps_long_answers() -> None:
    columns = (AnswerColumn("name", "VARCHAR", ""), AnswerColumn("plays", "BIGINT", ""))
    rows = [{"name": f"A|B {n}\nnext", "plays": 1000 + n} for n in range(5)]
    table = markdown_table(rows, columns, max_rows=3)
    assert _table_cells(table) == [[f"A|B {n} next", f"{1000 + n:,}"] for n in range(3)]
    assert "First 3 of 5 rows" in table


HOSTILE_TITLES = [
    "![x](https://evil.example/pixel.png)",
    "[Re-login](https://evil.example/login)",
    "<img src=https://evil.example/x.png>",
    "<a href='https://evil.example'>click</a>",
    "https://evil.example/bare www.evil.example mail@evil.example",
    "[ref]: https://evil.example",
    "*bold* _em_ `code` ~~gone~~ &lt;entity&gt; | pipe \\ backslash",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_hostile_song_title_renders_as_plain_text(title: str) -> None:
    """Finding 8: a song title is data; in the answer table it must show as typed, never as a
    link, image, HTML or formatting. Rendered by a CommonMark parser with GFM tables and
    autolinks (linkify), as the Dagster UI renders markdown metadata."""
    from markdown_it import MarkdownIt

    columns = (AnswerColumn("title", "VARCHAR", ""), AnswerColumn("plays", "BIGINT", ""))
    table = markdown_table([{"title": title, "plays": 3}], columns)
    assert _table_cells(table) == [[title, "3"]]
    renderer = MarkdownIt("commonmark", {"linkify": True}).enable(["table", "linkify"])
    html = renderer.render(table)
    assert "<img" not in html and "<a" not in html and "<em" not in html and "<code" not in html
    assert "<strong" not in html and "<s>" not in html
    tokens = [t for t in renderer.parse(table) if t.type == "inline"]
    cell_texts = [
        "".join(child.content for child in t.children or [] if child.type == "text") for t in tokens
    ]
    assert [title, "3"] == cell_texts[2:4]


def _daily_rows(first: date, days: int) -> list[dict[str, Any]]:
    return [
        {
            "play_date": date.fromordinal(first.toordinal() + n),
            "free_plays": n % 7,
            "paid_plays": 2 * (n % 5),
            "plays": n % 7 + 2 * (n % 5),
            "paid_share_pct": 0,
        }
        for n in range(days)
    ]


@pytest.mark.parametrize(
    ("days", "unit", "bars"),
    [(30, "day", 30), (92, "day", 92), (200, "week", 29), (2_859, "month", 94)],
)
def test_free_vs_paid_bars_per_day_week_or_month_keep_every_play(
    days: int, unit: str, bars: int
) -> None:
    """Over a long history the chart sums days into weeks or months (2,859 daily bars took 7.5 s
    to draw and could not be read): every play counted once, shares from the sums."""
    rows = _daily_rows(date(2018, 11, 1), days)
    found_unit, periods = plays_per_period(rows)
    assert (found_unit, len(periods)) == (unit, bars)
    assert sum(p.free for p in periods) == sum(r["free_plays"] for r in rows)
    assert sum(p.paid for p in periods) == sum(r["paid_plays"] for r in rows)
    assert [p.first for p in periods] == sorted({p.first for p in periods})
    for period in periods:
        inside = [
            r
            for r in rows
            if period.first <= r["play_date"] < period.first + timedelta(period.days)
        ]
        assert (period.free, period.paid) == (
            sum(r["free_plays"] for r in inside),
            sum(r["paid_plays"] for r in inside),
        )
        total = period.free + period.paid
        assert period.paid_share_pct == (100.0 * period.paid / total if total else 0.0)
    if unit == "week":
        assert all(p.first.weekday() == 0 and p.days == 7 for p in periods)
    if unit == "month":
        assert all(p.first.day == 1 for p in periods)
        assert periods[3].first == date(2019, 2, 1) and periods[3].days == 28


def test_free_vs_paid_chart_of_a_long_history_is_a_readable_png() -> None:
    png = free_vs_paid_chart(_daily_rows(date(2018, 11, 1), 2_859))
    assert _png_size(png) == (800, 380)


def test_a_stopping_step_cancels_the_queries_still_running(
    built_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queries run in a thread pool, out of reach of the step's interrupt: when the step
    stops taking answers (terminated, or failing), the queries still running are cancelled on the
    server instead of being awaited to their end."""
    real_sql = analytics_assets._question_sql

    def slow(question: str) -> SqlStatement:
        return replace(real_sql(question), text="SELECT pg_sleep(60) AS slept")

    monkeypatch.setattr(analytics_assets, "_question_sql", slow)
    answers = analytics_assets._answers(WarehouseResource(url=built_url), ANSWERED_QUESTIONS[:3])
    _, first, _ = next(answers)
    answers.close()  # as when the step is interrupted while it waits for the first answer
    error = first.exception(timeout=30)  # well before the query's 60 s
    assert error is not None and "canceling statement" in str(error)
