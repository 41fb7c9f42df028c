"""The Dagster instance class the project's ``dagster.yaml`` names: Dagster's own, with the event
writes batched in every process that loads the instance.

Two switches of Dagster 1.13 decide what a range run over N days costs the instance's storage, and
Dagster reads both from the environment of the process doing the work:

* ``DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=1`` (read when a run is *created*: the CLI,
  the webserver for a launch from the UI, the daemon for sensor, automation and backfill runs):
  one "materialization planned" event per asset holding the range, instead of one per day.
  The trade: a failed range run no longer marks each of its days failed (the days keep their last
  materialization, the run shows the failure). Here every range run replaces its days in one
  transaction, so a failed run changes no day: reporting the days as unchanged is the truth.
* ``DAGSTER_EVENT_BATCH_SIZE=1000`` (read where a run *executes*: the CLI, run workers): the
  per-day materialization events are written as multi-row inserts (only the PostgreSQL event log
  batches; SQLite ignores it).

A ``dagster.yaml`` cannot set environment variables, and a plain ``dagster dev`` or
``dagster-daemon run`` with ``DAGSTER_HOME`` naming the project's instance would run without them.
Every process that uses the instance builds it from ``dagster.yaml``, through this class: its
constructor sets the two variables (unless the environment already sets them), and the processes
it starts (code servers, run workers) inherit them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.instance.ref import InstanceRef

EVENT_WRITE_SETTINGS = {
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1",
    "DAGSTER_EVENT_BATCH_SIZE": "1000",
}


def apply_event_write_settings() -> None:
    """Sets each of ``EVENT_WRITE_SETTINGS`` that the environment does not set already."""
    for name, value in EVENT_WRITE_SETTINGS.items():
        os.environ.setdefault(name, value)


class BatchedEventInstance(dg.DagsterInstance):
    """``DagsterInstance`` that applies ``EVENT_WRITE_SETTINGS`` before it is used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        apply_event_write_settings()
        super().__init__(*args, **kwargs)

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        """No settings of its own (Dagster asks a custom instance class for them)."""
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Mapping[str, Any]:
        """Dagster's defaults for whatever ``dagster.yaml`` leaves out."""
        return InstanceRef.config_defaults(base_dir)
