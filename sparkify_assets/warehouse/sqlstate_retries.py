"""Which database errors a retry can fix, by SQLSTATE: one rule for both engines (PostgreSQL and
Redshift report the same classes)."""

from __future__ import annotations

# SQLSTATE classes a retry can fix: connection, transaction rollback (serialization, deadlock),
# insufficient resources, operator intervention (a server restarting, a killed session), system
# errors ...
HEALING_CLASSES = ("08", "40", "53", "57", "58")
# ... except these, which a retry repeats: a statement cancelled (statement_timeout), a connection
# the server refused to establish for a configuration reason, a protocol violation.
LASTING_SQLSTATES = frozenset({"57014", "08004", "08P01"})


def sqlstate_can_heal(sqlstate: str) -> bool:
    """Whether an error with ``sqlstate`` may not happen again when the step runs again."""
    return sqlstate[:2] in HEALING_CLASSES and sqlstate not in LASTING_SQLSTATES
