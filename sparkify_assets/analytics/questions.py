"""The analysts' questions as plain data: each answer's name, tables, description, chart and
columns. Its query is ``sql/analytics/<name>.sql``; defs/analytics_assets.py makes the assets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sparkify_assets.analytics.charts import (
    AnswerColumn,
    Row,
    free_vs_paid_chart,
    most_active_users_chart,
    plays_by_hour_chart,
    top_artists_by_month_chart,
    top_songs_by_month_chart,
)

Chart = Callable[[Sequence[Row]], bytes]


@dataclass(frozen=True)
class Question:
    """One analytics answer: ``name`` is its asset's name and its SQL file's (and statement's)."""

    name: str
    description: str
    deps: tuple[str, ...]  # the star tables the query reads
    chart: Chart
    columns: tuple[AnswerColumn, ...]  # the query's columns, in order

    @property
    def sql_path(self) -> str:
        """The query's file, under sql/."""
        return f"analytics/{self.name}.sql"

    @property
    def statement_key(self) -> str:
        """The query's key for ``sql_files.statement``: the file's one statement, named like it."""
        return f"analytics/{self.name}.{self.name}"


QUESTIONS: tuple[Question, ...] = (
    Question(
        name="most_active_users",
        description=(
            "Who listens most? The 10 users with the most song plays across every loaded day, with"
            " their current level (free/paid), number of sessions and share of all plays. Open the"
            " latest materialization for the table and a bar chart; the query is"
            " sql/analytics/most_active_users.sql."
        ),
        deps=("songplays", "users"),
        chart=most_active_users_chart,
        columns=(
            AnswerColumn("user_id", "INTEGER", "The user (users.user_id)."),
            AnswerColumn("first_name", "VARCHAR", "First name, from the user's most recent event."),
            AnswerColumn("last_name", "VARCHAR", "Last name, from the user's most recent event."),
            AnswerColumn("level", "VARCHAR", "The user's current level: free or paid."),
            AnswerColumn("plays", "BIGINT", "Song plays by this user over the whole warehouse."),
            AnswerColumn("sessions", "BIGINT", "Distinct sessions in which the user played songs."),
            AnswerColumn(
                "share_of_plays_pct",
                "NUMERIC",
                "The user's plays as a percentage of all identified plays.",
            ),
        ),
    ),
    Question(
        name="plays_by_hour",
        description=(
            "When do people listen? Song plays per hour of the day (UTC) across every loaded day,"
            " with each hour's share of all plays. Open the latest materialization for the table"
            " and a 24-hour bar chart; the query is sql/analytics/plays_by_hour.sql."
        ),
        deps=("songplays", "time"),
        chart=plays_by_hour_chart,
        columns=(
            AnswerColumn("hour", "INTEGER", "Hour of day, 0-23 (UTC), from the time dimension."),
            AnswerColumn(
                "plays", "BIGINT", "Song plays that started in this hour, all days together."
            ),
            AnswerColumn(
                "share_of_plays_pct", "NUMERIC", "This hour's plays as a percentage of all plays."
            ),
        ),
    ),
    Question(
        name="top_songs_by_month",
        description=(
            "What do people play? The 5 most played songs of each year and month. Only plays"
            " matched to the song catalog count (most plays are of songs outside the catalog and"
            " have no song_id). Open the latest materialization for the table and one bar chart per"
            " month; the query is sql/analytics/top_songs_by_month.sql."
        ),
        deps=("songplays", "songs", "artists", "time"),
        chart=top_songs_by_month_chart,
        columns=(
            AnswerColumn("year", "INTEGER", "Calendar year of the plays (UTC)."),
            AnswerColumn("month", "INTEGER", "Month of the plays, 1-12."),
            AnswerColumn(
                "song_rank", "BIGINT", "1 = the month's most played song; ties by song_id."
            ),
            AnswerColumn("song_id", "VARCHAR", "The song (songs.song_id)."),
            AnswerColumn("title", "VARCHAR", "Song title, from the catalog."),
            AnswerColumn("artist_name", "VARCHAR", "The song's artist, from the catalog."),
            AnswerColumn("plays", "BIGINT", "Plays of the song in that month."),
        ),
    ),
    Question(
        name="top_artists_by_month",
        description=(
            "Whom do people play? The 5 most played artists of each year and month, with how many"
            " of their songs were played. Only plays matched to the song catalog count. Open the"
            " latest materialization for the table and one bar chart per month; the query is"
            " sql/analytics/top_artists_by_month.sql."
        ),
        deps=("songplays", "artists", "time"),
        chart=top_artists_by_month_chart,
        columns=(
            AnswerColumn("year", "INTEGER", "Calendar year of the plays (UTC)."),
            AnswerColumn("month", "INTEGER", "Month of the plays, 1-12."),
            AnswerColumn(
                "artist_rank", "BIGINT", "1 = the month's most played artist; ties by artist_id."
            ),
            AnswerColumn("artist_id", "VARCHAR", "The artist (artists.artist_id)."),
            AnswerColumn("artist_name", "VARCHAR", "Artist name, from the catalog."),
            AnswerColumn("plays", "BIGINT", "Plays of the artist's songs in that month."),
            AnswerColumn(
                "distinct_songs", "BIGINT", "How many different songs of the artist were played."
            ),
        ),
    ),
    Question(
        name="free_vs_paid_plays",
        description=(
            "Free vs paid over time: song plays per day, split by the level the user had when"
            " playing (not their level today), with the paid share. Open the latest materialization"
            " for the table and a stacked chart (a bar per day; per week or month over a longer"
            " history); the query is"
            " sql/analytics/free_vs_paid_plays.sql."
        ),
        deps=("songplays",),
        chart=free_vs_paid_chart,
        columns=(
            AnswerColumn("play_date", "DATE", "The day of the plays (UTC)."),
            AnswerColumn(
                "free_plays", "BIGINT", "Plays by users who were on the free level at the time."
            ),
            AnswerColumn(
                "paid_plays", "BIGINT", "Plays by users who were on the paid level at the time."
            ),
            AnswerColumn("plays", "BIGINT", "All plays of the day."),
            AnswerColumn(
                "paid_share_pct", "NUMERIC", "Paid plays as a percentage of the day's plays."
            ),
        ),
    ),
)

QUESTIONS_BY_NAME: dict[str, Question] = {question.name: question for question in QUESTIONS}
