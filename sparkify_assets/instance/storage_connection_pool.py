"""The instance's storages on an engine that keeps one connection open per process, instead of
dagster-postgres' new connection per query and event (docs/instance_and_performance.md)."""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from dagster._serdes import ConfigurableClassData
from dagster_postgres import PostgresRunStorage, PostgresScheduleStorage
from dagster_postgres.utils import (
    create_pg_engine,
    get_token_provider_from_config,
    pg_url_from_config,
)

if TYPE_CHECKING:
    import sqlalchemy

KEPT_CONNECTIONS = 1  # per storage and process: the event log is written one event at a time
RECYCLE_SECONDS = 1_800  # a kept connection older than this is replaced (server-side timeouts)


def pooled_storage_engine(postgres_url: str, token_provider: Any = None) -> sqlalchemy.Engine:
    """An AUTOCOMMIT engine on ``postgres_url`` keeping ``KEPT_CONNECTIONS`` connection open."""
    engine = create_pg_engine(
        postgres_url,
        token_provider,
        isolation_level="AUTOCOMMIT",
        pool_size=KEPT_CONNECTIONS,
        max_overflow=-1,  # no limit, no waiting: the extra connections are closed after use
        pool_pre_ping=True,
        pool_recycle=RECYCLE_SECONDS,
    )
    _forget_in_forked_children(engine)
    return engine


def _forget_in_forked_children(engine: sqlalchemy.Engine) -> None:
    """After a ``fork``, the child drops the parent's pooled connections without closing them
    (closing would end the parent's session): SQLAlchemy's documented rule for pools and fork."""
    reference = weakref.ref(engine)

    def forget() -> None:
        alive = reference()
        if alive is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=forget)


class PooledEngine:
    """Mixin for a dagster-postgres storage: its engine replaced by ``pooled_storage_engine``
    once dagster-postgres' own set-up (tables, migrations) is done; built from the same config."""

    postgres_url: str
    _engine: Any
    _token_provider: Any

    def __init__(self, postgres_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(postgres_url, *args, **kwargs)  # type: ignore[call-arg]
        self._engine.dispose()
        self._engine = pooled_storage_engine(self.postgres_url, self._token_provider)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> Self:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )


class PooledRunStorage(PooledEngine, PostgresRunStorage):
    """dagster-postgres' run storage on a pooled engine."""


class PooledScheduleStorage(PooledEngine, PostgresScheduleStorage):
    """dagster-postgres' schedule storage (sensor and schedule ticks, cursors) on a pooled
    engine."""
