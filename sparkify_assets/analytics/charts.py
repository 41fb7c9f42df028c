"""Rendering an analytics answer for the Dagster UI: pure functions of the query's rows giving a
markdown table and a PNG chart (matplotlib's Agg canvas, imported when a chart is drawn; the
reasons: docs/analytics.md, "How the answers are made")."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Row = Mapping[str, object]  # one row of an answer, keyed by column name

FREE_COLOR = "#9aa5b1"
PAID_COLOR = "#4f46e5"
BAR_COLOR = "#4f46e5"
MONTH_NAMES = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
)  # fmt: skip


@dataclass(frozen=True)
class AnswerColumn:
    """One column of an analytics answer: its name in the query, its type, what it means."""

    name: str
    type: str
    description: str


# ---------------------------------------------------------------------------------------- markdown

# CommonMark lets a backslash escape any ASCII punctuation character, and only those.
_MARKDOWN_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")


def _cell(value: object, column: AnswerColumn) -> str:
    if value is None:
        return "—"
    if isinstance(value, float | Decimal):
        text = f"{value:,.1f}"
    elif isinstance(value, int) and not isinstance(value, bool):
        # Counts (COUNT(*) is BIGINT) get thousands separators; years, hours and ids do not.
        text = f"{value:,}" if column.type.upper() == "BIGINT" else str(value)
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        # Text comes from the source data (song titles, names): every markdown construct in it
        # is escaped, so it shows as typed and never renders as a link, image, HTML or emphasis.
        return escape_markdown(" ".join(str(value).split()))
    return " ".join(text.split()).replace("|", "\\|")


def escape_markdown(text: str) -> str:
    """``text`` with every ASCII punctuation character backslash-escaped: CommonMark and GFM
    render it literally (no link, image, autolink, raw HTML, entity, emphasis or table pipe)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\g<0>", text)


def markdown_table(
    rows: Sequence[Row], columns: Sequence[AnswerColumn], *, max_rows: int = 100
) -> str:
    """``rows`` as a GitHub-flavoured markdown table; numbers right-aligned. Past ``max_rows`` the
    table stops with a line saying how many rows were left out."""
    numeric = {
        c.name for c in columns if c.type.upper().startswith(("INT", "BIGINT", "NUMERIC", "DOUBLE"))
    }
    header = "| " + " | ".join(c.name for c in columns) + " |"
    align = "|" + "|".join("---:" if c.name in numeric else "---" for c in columns) + "|"
    lines = [header, align]
    for row in rows[:max_rows]:
        lines.append("| " + " | ".join(_cell(row.get(c.name), c) for c in columns) + " |")
    if not rows:
        lines.append("| " + " | ".join("" for _ in columns) + " |")
        lines.append("")
        lines.append("_No rows: the star schema holds no song plays yet._")
    elif len(rows) > max_rows:
        lines.append("")
        lines.append(f"_First {max_rows:,} of {len(rows):,} rows; run the SQL for all of them._")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- PNGs


def load_drawing_library() -> None:
    """Imports what drawing a chart needs (matplotlib: 0.4 s), e.g. while queries are running."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes, without a timestamp or software stamp (same data, same bytes)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def png_markdown(png: bytes, alt: str) -> str:
    """A markdown image showing ``png`` inline (a ``data:`` URI: no file to serve)."""
    encoded = base64.b64encode(png).decode("ascii")
    return f"![{alt}](data:image/png;base64,{encoded})"


def _empty_chart(title: str) -> bytes:
    figure = _new_figure(8, 2)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.text(0.5, 0.5, f"{title}\n(no song plays yet)", ha="center", va="center", fontsize=12)
    return figure_png(figure)


def _wrong_type(column: str, expected: str, value: object) -> TypeError:
    return TypeError(f"answer column {column!r}: expected {expected}, got {type(value).__name__}")


def _int(row: Row, column: str) -> int:
    value = row[column]
    if isinstance(value, int | Decimal | float | str):
        return int(value)
    raise _wrong_type(column, "a number", value)


def _float(row: Row, column: str) -> float:
    value = row[column]
    if isinstance(value, int | Decimal | float | str):
        return float(value)
    raise _wrong_type(column, "a number", value)


def _date(row: Row, column: str) -> date:
    value = row[column]
    if isinstance(value, date):
        return value
    raise _wrong_type(column, "a date", value)


def _shorten(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def most_active_users_chart(rows: Sequence[Row]) -> bytes:
    """Horizontal bars: plays per user, the most active on top, coloured by current level."""
    from matplotlib.patches import Patch

    title = "Most active users (song plays)"
    if not rows:
        return _empty_chart(title)
    figure = _new_figure(8, 0.9 + 0.38 * len(rows))
    axes = figure.add_subplot()
    ordered = list(reversed(rows))
    labels = [
        _shorten(f"{r.get('first_name') or ''} {r.get('last_name') or ''} (#{r['user_id']})")
        for r in ordered
    ]
    plays = [_int(r, "plays") for r in ordered]
    colors = [PAID_COLOR if r.get("level") == "paid" else FREE_COLOR for r in ordered]
    bars = axes.barh(labels, plays, color=colors)
    axes.bar_label(bars, padding=3, fontsize=8)
    axes.set_xlabel("song plays")
    axes.set_title(title)
    axes.legend(
        handles=[
            Patch(color=PAID_COLOR, label="paid (current level)"),
            Patch(color=FREE_COLOR, label="free (current level)"),
        ],
        loc="lower right",
        fontsize=8,
    )
    axes.spines[["top", "right"]].set_visible(False)
    return figure_png(figure)


def plays_by_hour_chart(rows: Sequence[Row]) -> bytes:
    """Vertical bars for the 24 hours of the day (hours without plays shown as 0)."""
    title = "Song plays by hour of day (UTC)"
    if not rows:
        return _empty_chart(title)
    by_hour = {_int(r, "hour"): _int(r, "plays") for r in rows}
    hours = list(range(24))
    figure = _new_figure(8, 3.6)
    axes = figure.add_subplot()
    axes.bar(hours, [by_hour.get(h, 0) for h in hours], color=BAR_COLOR)
    axes.set_xticks(hours, [f"{h:02d}" for h in hours], fontsize=8)
    axes.set_xlabel("hour of day (UTC)")
    axes.set_ylabel("song plays")
    axes.set_title(title)
    axes.spines[["top", "right"]].set_visible(False)
    return figure_png(figure)


def _months(rows: Sequence[Row]) -> list[tuple[int, int]]:
    return sorted({(_int(r, "year"), _int(r, "month")) for r in rows})


def _ranked_per_month_chart(
    rows: Sequence[Row],
    *,
    title: str,
    rank_column: str,
    label: Callable[[Row], str],
    max_months: int,
) -> bytes:
    if not rows:
        return _empty_chart(title)
    months = _months(rows)
    shown = months[-max_months:]
    if len(shown) < len(months):
        title = f"{title} — latest {len(shown)} of {len(months)} months"
    per_panel = max(sum(1 for r in rows if (_int(r, "year"), _int(r, "month")) == m) for m in shown)
    figure = _new_figure(8, 0.6 + len(shown) * (0.55 + 0.32 * per_panel))
    figure.suptitle(title)
    panels = figure.subplots(len(shown), 1, squeeze=False)[:, 0]
    for axes, (year, month) in zip(panels, shown, strict=True):
        ranked = sorted(
            (r for r in rows if (_int(r, "year"), _int(r, "month")) == (year, month)),
            key=lambda r: _int(r, rank_column),
            reverse=True,
        )
        bars = axes.barh(
            [_shorten(label(r), 60) for r in ranked],
            [_int(r, "plays") for r in ranked],
            color=BAR_COLOR,
        )
        axes.bar_label(bars, padding=3, fontsize=8)
        axes.set_title(f"{MONTH_NAMES[month - 1]} {year}", loc="left", fontsize=10)
        axes.tick_params(axis="y", labelsize=8)
        axes.spines[["top", "right"]].set_visible(False)
        axes.xaxis.get_major_locator().set_params(integer=True)
    panels[-1].set_xlabel("song plays (matched to the catalog)")
    return figure_png(figure)


def top_songs_by_month_chart(rows: Sequence[Row], *, max_months: int = 4) -> bytes:
    """One panel per month (the latest ``max_months``): its top songs as horizontal bars."""
    return _ranked_per_month_chart(
        rows,
        title="Top songs by month",
        rank_column="song_rank",
        label=lambda r: f"{r.get('title') or r['song_id']} — {r.get('artist_name') or '?'}",
        max_months=max_months,
    )


def top_artists_by_month_chart(rows: Sequence[Row], *, max_months: int = 4) -> bytes:
    """One panel per month (the latest ``max_months``): its top artists as horizontal bars."""
    return _ranked_per_month_chart(
        rows,
        title="Top artists by month",
        rank_column="artist_rank",
        label=lambda r: str(r.get("artist_name") or r["artist_id"]),
        max_months=max_months,
    )


# Above this many days, the free-vs-paid chart draws a bar per week, and above the second per
# month: thousands of daily bars are unreadable at 800 pixels wide, and each bar is a matplotlib
# patch (2,859 days took 7.5 s to draw and 115 MB of memory; a bar per month takes well under 1 s).
DAILY_BARS_UP_TO_DAYS = 92
WEEKLY_BARS_UP_TO_DAYS = 731


@dataclass(frozen=True)
class PeriodPlays:
    """Free and paid plays over the days ``first`` .. ``first + days - 1``."""

    first: date
    days: int
    free: int
    paid: int

    @property
    def paid_share_pct(self) -> float:
        total = self.free + self.paid
        return 100.0 * self.paid / total if total else 0.0


def plays_per_period(rows: Sequence[Row]) -> tuple[str, list[PeriodPlays]]:
    """The daily rows of the free-vs-paid answer summed per day, week (from Monday) or calendar
    month, whichever keeps the number of bars readable: ("day" | "week" | "month", periods)."""
    if not rows:
        return "day", []
    days = [_date(r, "play_date") for r in rows]
    span = (max(days) - min(days)).days + 1
    unit = (
        "day"
        if span <= DAILY_BARS_UP_TO_DAYS
        else ("week" if span <= WEEKLY_BARS_UP_TO_DAYS else "month")
    )
    sums: dict[date, list[int]] = {}
    for row, day in zip(rows, days, strict=True):
        if unit == "week":
            first = day - timedelta(days=day.weekday())
        elif unit == "month":
            first = day.replace(day=1)
        else:
            first = day
        total = sums.setdefault(first, [0, 0])
        total[0] += _int(row, "free_plays")
        total[1] += _int(row, "paid_plays")
    return unit, [
        PeriodPlays(first, _period_days(first, unit), free, paid)
        for first, (free, paid) in sorted(sums.items())
    ]


def _period_days(first: date, unit: str) -> int:
    if unit == "week":
        return 7
    if unit == "month":
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        return (following - first).days
    return 1


def free_vs_paid_chart(rows: Sequence[Row]) -> bytes:
    """Stacked bars per day (per week or month over a long history, see ``plays_per_period``),
    free below paid, with the paid share as a line on a second axis."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    unit, periods = plays_per_period(rows)
    title = f"Song plays per {unit}: free vs paid"
    if not periods:
        return _empty_chart(title)
    starts = [p.first for p in periods]
    widths = [0.8 * p.days for p in periods]
    free = [p.free for p in periods]
    paid = [p.paid for p in periods]
    middles = [p.first + timedelta(days=p.days / 2) for p in periods] if unit != "day" else starts
    figure = _new_figure(8, 3.8)
    axes = figure.add_subplot()
    align: Literal["center", "edge"] = "center" if unit == "day" else "edge"
    axes.bar(starts, free, width=widths, align=align, color=FREE_COLOR, label="free plays")  # type: ignore[arg-type]
    axes.bar(
        starts,  # type: ignore[arg-type]
        paid,
        width=widths,
        bottom=free,
        align=align,
        color=PAID_COLOR,
        label="paid plays",
    )
    axes.set_ylabel(f"song plays per {unit}")
    axes.set_title(title)
    share_axes = axes.twinx()
    share_axes.plot(
        middles,  # type: ignore[arg-type]
        [p.paid_share_pct for p in periods],
        color="#f59e0b",
        marker=".",
        label="paid share (%)",
    )
    share_axes.set_ylim(0, 100)
    share_axes.set_ylabel("paid share (%)")
    handles, labels = axes.get_legend_handles_labels()
    share_handles, share_labels = share_axes.get_legend_handles_labels()
    figure.legend(
        handles + share_handles,
        labels + share_labels,
        loc="outside lower center",
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    locator = AutoDateLocator(maxticks=10)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.spines[["top"]].set_visible(False)
    share_axes.spines[["top"]].set_visible(False)
    return figure_png(figure)
