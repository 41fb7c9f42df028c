"""When the Redshift engine runs ANALYZE and VACUUM DELETE ONLY after replacing rows.

Redshift deletes by marking rows; the space comes back on VACUUM, and the planner uses the
statistics of the last ANALYZE. Both run in the background on their own (automatic analyze and
vacuum delete), but only when the cluster is quiet; a daily delete-and-insert that replaces a large
share of a table leaves the next steps (the star transforms, the checks) planning on stale
statistics. So after each replacement the engine decides, from the rows it deleted and inserted:

* ``ANALYZE`` when the changed rows (deleted + inserted) are at least ``ANALYZE_CHANGED_SHARE``
  of the table after the change: the 10 % that Redshift's ``analyze_threshold_percent`` uses by
  default, below which ANALYZE would skip the table anyway;
* ``VACUUM DELETE ONLY`` when the deleted rows are at least ``VACUUM_DELETED_SHARE`` of the table
  before the change (a window replacement that rewrote a large part of it): reclaiming a fifth of
  the blocks is worth a pass, a day out of years is not.

The statements are in ``sql/redshift/upkeep.sql``; this module only decides.
"""

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
