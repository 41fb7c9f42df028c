"""Records a loader refuses, and how they are stored in ``load_quarantine``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

RAW_TEXT_LIMIT = 4000  # characters of the raw record kept in the quarantine table
RAW_BYTES_KEPT = RAW_TEXT_LIMIT * 4  # what a RejectedRecord keeps: enough for RAW_TEXT_LIMIT
# Rejected records a loader holds before writing them: memory stays bounded on a file of junk.
QUARANTINE_BATCH_RECORDS = 2000
QUARANTINE_BATCH_BYTES = 8 << 20

QUARANTINE_COLUMNS = (
    "source_kind",
    "log_date",
    "source_file",
    "line_number",
    "reason",
    "raw_text",
    "rejected_at",
    "run_id",
)


@dataclass(frozen=True)
class RejectedRecord:
    """A record that was not loaded, and why."""

    source_file: str
    line_number: int | None
    reason: str
    raw: bytes

    def quarantine_row(
        self, *, source_kind: str, log_date: date | None, rejected_at: datetime, run_id: str
    ) -> tuple[object, ...]:
        """The row for ``load_quarantine``, in QUARANTINE_COLUMNS order."""
        text = self.raw[: RAW_TEXT_LIMIT * 4].decode("utf-8", errors="backslashreplace")
        text = text.replace("\x00", "\\x00")[:RAW_TEXT_LIMIT]
        return (
            source_kind,
            log_date,
            self.source_file,
            self.line_number,
            self.reason,
            text,
            rejected_at,
            run_id,
        )
