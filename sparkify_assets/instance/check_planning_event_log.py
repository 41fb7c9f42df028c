"""The instance's event log: dagster-postgres' own, with one planned row per check and run, and
its connections kept open between events.

When a run is created, Dagster 1.13 writes an "evaluation planned" row into the asset-check
executions table for every check, times every partition of the run, whether or not the check is
partitioned. The project's checks are not partitioned (an ``AssetCheckSpec`` without
``partitions_def``: a check judges a run's whole window once), so a range run over the 2,859 days
of the long history wrote 16 x 2,859 = 45,744 rows, each with the serialized event: measured at
51 of the 59 s the command took (``benchmarks/real_paths.py``, 100k events). Worse, the check's
result (partition None) then matches none of them: Dagster inserts another row and the 45,744 stay
"planned" for ever.

Here a planned check of a partitioned run gets one row, partition None: the row the check's result
updates. ``tests/test_daemon_on_project_instance.py`` asserts that no check of the definitions has
a ``partitions_def`` (the condition for this to be right).

Its engine keeps a connection open between uses (``storage_connection_pool``: dagster-postgres
opens a new one per event, about 300 in a one-day run), and which of its tables exist is asked once
per process, not before every event write (a table, once there, does not go away under a running
process).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._serdes import ConfigurableClassData, serialize_value
from dagster_postgres import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

from sparkify_assets.instance.storage_connection_pool import pooled_storage_engine


class CheckPlanningEventLogStorage(PostgresEventLogStorage):
    """``PostgresEventLogStorage`` writing one planned row per (unpartitioned) check and run, on
    a pooled engine."""

    def __init__(self, postgres_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(postgres_url, *args, **kwargs)
        self._engine.dispose()
        self._engine = pooled_storage_engine(self.postgres_url, self._token_provider)
        self._tables_present: set[str] = set()

    def has_table(self, table_name: str) -> bool:
        if table_name in self._tables_present:
            return True
        present = super().has_table(table_name)
        if present:
            self._tables_present.add(table_name)
        return present

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> CheckPlanningEventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )

    def _store_asset_check_evaluation_planned(self, event: Any, event_id: int | None) -> None:
        planned = event.dagster_event.event_specific_data
        with self.index_connection() as conn:
            conn.execute(
                AssetCheckExecutionsTable.insert().values(
                    asset_key=planned.asset_key.to_string(),
                    check_name=planned.check_name,
                    partition=None,
                    run_id=event.run_id,
                    execution_status=AssetCheckExecutionRecordStatus.PLANNED.value,
                    evaluation_event=serialize_value(event),
                    evaluation_event_timestamp=self._event_insert_timestamp(event),
                    evaluation_event_storage_id=event_id,
                )
            )
