"""Analytics: the analysts' daily questions, answered from the star schema.

Each asset runs one query from ``sql/analytics/<question>.sql`` (the same file analysts run in their
SQL client, unchanged on PostgreSQL and Redshift) over the whole warehouse, and records the answer
in its materialization: a markdown table, a chart, and the answer's row count. Nothing is written
to the warehouse: the answer lives in the asset's metadata, one version per materialization.
They refresh by themselves after their tables change, at most once per interval
(``analytics_automation``).
"""

from collections.abc import Callable, Sequence

import dagster as dg

from sparkify_assets.analytics.charts import (
    AnswerColumn,
    Row,
    free_vs_paid_chart,
    markdown_table,
    most_active_users_chart,
    plays_by_hour_chart,
    png_markdown,
    top_artists_by_month_chart,
    top_songs_by_month_chart,
)
from sparkify_assets.defs.analytics_automation import analytics_refresh
from sparkify_assets.defs.asset_groups import ANALYTICS_GROUP
from sparkify_assets.defs.resources import WarehouseResource
from sparkify_assets.warehouse.sql_code_references import sql_file_references
from sparkify_assets.warehouse.sql_files import SqlStatement, statement

OWNERS = ["team:analytics"]
KINDS = {"postgres", "redshift", "matplotlib"}

Chart = Callable[[Sequence[Row]], bytes]


def _question_sql(question: str) -> SqlStatement:
    return statement(f"analytics/{question}.{question}")


def _schema(columns: Sequence[AnswerColumn]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=c.name, type=c.type, description=c.description) for c in columns
        ]
    )


def _definition_metadata(question: str, columns: Sequence[AnswerColumn]) -> dict[str, object]:
    """What the UI shows before any materialization: the answer's columns, a link to the SQL
    file and the query itself, ready to copy into a SQL client."""
    sql = _question_sql(question)
    return {
        "dagster/column_schema": _schema(columns),
        "dagster/code_references": sql_file_references([(f"analytics/{question}.sql", "Query")]),
        "sql_file": f"sql/analytics/{question}.sql",
        "query": dg.MetadataValue.md(f"```sql\n{sql.text};\n```"),
    }


def _answer(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    question: str,
    columns: Sequence[AnswerColumn],
    chart: Chart,
) -> dg.MaterializeResult:
    """Runs the question's query and turns its rows into the materialization's metadata."""
    sql = _question_sql(question)
    with warehouse.open() as connection:
        rows = connection.query(sql)
        engine = connection.engine
    returned = [c for c in rows[0]] if rows else [c.name for c in columns]
    if returned != [c.name for c in columns]:
        raise dg.Failure(
            description=(
                f"sql/analytics/{question}.sql returned columns {returned}; the asset documents"
                f" {[c.name for c in columns]}. Update both together."
            )
        )
    context.log.info(f"{question}: {len(rows)} rows from {engine}")
    title = question.replace("_", " ")
    return dg.MaterializeResult(
        metadata={
            "answer": dg.MetadataValue.md(markdown_table(rows, columns)),
            "chart": dg.MetadataValue.md(png_markdown(chart(rows), alt=title)),
            "dagster/row_count": len(rows),
            "engine": engine,
        }
    )


# ----------------------------------------------------------------------------- most active users

MOST_ACTIVE_USERS_COLUMNS = (
    AnswerColumn("user_id", "INTEGER", "The user (users.user_id)."),
    AnswerColumn("first_name", "VARCHAR", "First name, from the user's most recent event."),
    AnswerColumn("last_name", "VARCHAR", "Last name, from the user's most recent event."),
    AnswerColumn("level", "VARCHAR", "The user's current level: free or paid."),
    AnswerColumn("plays", "BIGINT", "Song plays by this user over the whole warehouse."),
    AnswerColumn("sessions", "BIGINT", "Distinct sessions in which the user played songs."),
    AnswerColumn(
        "share_of_plays_pct", "NUMERIC", "The user's plays as a percentage of all identified plays."
    ),
)


@dg.asset(
    name="most_active_users",
    description=(
        "Who listens most? The 10 users with the most song plays across every loaded day, with"
        " their current level (free/paid), number of sessions and share of all plays. Open the"
        " latest materialization for the table and a bar chart; the query is"
        " sql/analytics/most_active_users.sql."
    ),
    group_name=ANALYTICS_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    deps=["songplays", "users"],
    automation_condition=analytics_refresh,
    metadata=_definition_metadata("most_active_users", MOST_ACTIVE_USERS_COLUMNS),
)
def most_active_users(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    return _answer(
        context, warehouse, "most_active_users", MOST_ACTIVE_USERS_COLUMNS, most_active_users_chart
    )


# --------------------------------------------------------------------------------- plays by hour

PLAYS_BY_HOUR_COLUMNS = (
    AnswerColumn("hour", "INTEGER", "Hour of day, 0-23 (UTC), from the time dimension."),
    AnswerColumn("plays", "BIGINT", "Song plays that started in this hour, all days together."),
    AnswerColumn(
        "share_of_plays_pct", "NUMERIC", "This hour's plays as a percentage of all plays."
    ),
)


@dg.asset(
    name="plays_by_hour",
    description=(
        "When do people listen? Song plays per hour of the day (UTC) across every loaded day, with"
        " each hour's share of all plays. Open the latest materialization for the table and a"
        " 24-hour bar chart; the query is sql/analytics/plays_by_hour.sql."
    ),
    group_name=ANALYTICS_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    deps=["songplays", "time"],
    automation_condition=analytics_refresh,
    metadata=_definition_metadata("plays_by_hour", PLAYS_BY_HOUR_COLUMNS),
)
def plays_by_hour(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    return _answer(context, warehouse, "plays_by_hour", PLAYS_BY_HOUR_COLUMNS, plays_by_hour_chart)


# ---------------------------------------------------------------------------- top songs by month

TOP_SONGS_BY_MONTH_COLUMNS = (
    AnswerColumn("year", "INTEGER", "Calendar year of the plays (UTC)."),
    AnswerColumn("month", "INTEGER", "Month of the plays, 1-12."),
    AnswerColumn("song_rank", "BIGINT", "1 = the month's most played song; ties by song_id."),
    AnswerColumn("song_id", "VARCHAR", "The song (songs.song_id)."),
    AnswerColumn("title", "VARCHAR", "Song title, from the catalog."),
    AnswerColumn("artist_name", "VARCHAR", "The song's artist, from the catalog."),
    AnswerColumn("plays", "BIGINT", "Plays of the song in that month."),
)


@dg.asset(
    name="top_songs_by_month",
    description=(
        "What do people play? The 5 most played songs of each year and month. Only plays matched"
        " to the song catalog count (most plays are of songs outside the catalog and have no"
        " song_id). Open the latest materialization for the table and one bar chart per month;"
        " the query is sql/analytics/top_songs_by_month.sql."
    ),
    group_name=ANALYTICS_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    deps=["songplays", "songs", "artists", "time"],
    automation_condition=analytics_refresh,
    metadata=_definition_metadata("top_songs_by_month", TOP_SONGS_BY_MONTH_COLUMNS),
)
def top_songs_by_month(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    return _answer(
        context,
        warehouse,
        "top_songs_by_month",
        TOP_SONGS_BY_MONTH_COLUMNS,
        top_songs_by_month_chart,
    )


# -------------------------------------------------------------------------- top artists by month

TOP_ARTISTS_BY_MONTH_COLUMNS = (
    AnswerColumn("year", "INTEGER", "Calendar year of the plays (UTC)."),
    AnswerColumn("month", "INTEGER", "Month of the plays, 1-12."),
    AnswerColumn("artist_rank", "BIGINT", "1 = the month's most played artist; ties by artist_id."),
    AnswerColumn("artist_id", "VARCHAR", "The artist (artists.artist_id)."),
    AnswerColumn("artist_name", "VARCHAR", "Artist name, from the catalog."),
    AnswerColumn("plays", "BIGINT", "Plays of the artist's songs in that month."),
    AnswerColumn("distinct_songs", "BIGINT", "How many different songs of the artist were played."),
)


@dg.asset(
    name="top_artists_by_month",
    description=(
        "Whom do people play? The 5 most played artists of each year and month, with how many of"
        " their songs were played. Only plays matched to the song catalog count. Open the latest"
        " materialization for the table and one bar chart per month; the query is"
        " sql/analytics/top_artists_by_month.sql."
    ),
    group_name=ANALYTICS_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    deps=["songplays", "artists", "time"],
    automation_condition=analytics_refresh,
    metadata=_definition_metadata("top_artists_by_month", TOP_ARTISTS_BY_MONTH_COLUMNS),
)
def top_artists_by_month(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    return _answer(
        context,
        warehouse,
        "top_artists_by_month",
        TOP_ARTISTS_BY_MONTH_COLUMNS,
        top_artists_by_month_chart,
    )


# ---------------------------------------------------------------------------- free vs paid plays

FREE_VS_PAID_PLAYS_COLUMNS = (
    AnswerColumn("play_date", "DATE", "The day of the plays (UTC)."),
    AnswerColumn("free_plays", "BIGINT", "Plays by users who were on the free level at the time."),
    AnswerColumn("paid_plays", "BIGINT", "Plays by users who were on the paid level at the time."),
    AnswerColumn("plays", "BIGINT", "All plays of the day."),
    AnswerColumn("paid_share_pct", "NUMERIC", "Paid plays as a percentage of the day's plays."),
)


@dg.asset(
    name="free_vs_paid_plays",
    description=(
        "Free vs paid over time: song plays per day, split by the level the user had when playing"
        " (not their level today), with the paid share. Open the latest materialization for the"
        " table and a stacked daily chart; the query is sql/analytics/free_vs_paid_plays.sql."
    ),
    group_name=ANALYTICS_GROUP,
    kinds=KINDS,
    owners=OWNERS,
    deps=["songplays"],
    automation_condition=analytics_refresh,
    metadata=_definition_metadata("free_vs_paid_plays", FREE_VS_PAID_PLAYS_COLUMNS),
)
def free_vs_paid_plays(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    return _answer(
        context, warehouse, "free_vs_paid_plays", FREE_VS_PAID_PLAYS_COLUMNS, free_vs_paid_chart
    )
