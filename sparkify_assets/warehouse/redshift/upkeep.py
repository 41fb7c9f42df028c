"""When the Redshift engine runs ANALYZE and VACUUM DELETE ONLY after replacing rows (the
thresholds and why: docs/redshift_first_run.md, "Finding 6"); the SQL is sql/redshift/upkeep.sql."""

from __future__ import annotations

from dataclasses import dataclass

ANALYZE_CHANGED_SHARE = 0.10
VACUUM_DELETED_SHARE = 0.20


@dataclass(frozen=True)
class Upkeep:
    """What to run on one table after a replacement."""

    analyze: bool
    vacuum_delete_only: bool

    @property
    def statements(self) -> list[str]:
        """The names of the sql/redshift/upkeep.sql statements to run, in order."""
        names = []
        if self.vacuum_delete_only:
            names.append("vacuum_delete_only")
        if self.analyze:
            names.append("analyze_table")
        return names


def upkeep_plan(*, rows_after: int, deleted: int, inserted: int) -> Upkeep:
    """The upkeep a table of ``rows_after`` rows needs after ``deleted`` and ``inserted`` rows."""
    if min(rows_after, deleted, inserted) < 0:
        raise ValueError("row counts are never negative")
    rows_before = max(rows_after - inserted + deleted, 0)
    changed = deleted + inserted
    analyze = changed > 0 and changed >= ANALYZE_CHANGED_SHARE * max(rows_after, 1)
    vacuum = deleted > 0 and deleted >= VACUUM_DELETED_SHARE * max(rows_before, 1)
    return Upkeep(analyze=analyze, vacuum_delete_only=vacuum)
