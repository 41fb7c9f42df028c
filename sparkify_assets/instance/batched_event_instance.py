"""The instance class ``dagster.yaml`` names: Dagster's own, setting the two switches that batch
event writes in every process that loads it (docs/instance_and_performance.md)."""

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
