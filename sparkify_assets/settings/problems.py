"""Failures a person fixes by changing one setting or starting a service, not by reading a stack.

A run's step fails with the one message; ``sparkify`` prints it and exits 2 (docs/errors.md).
"""

from __future__ import annotations

import dagster as dg

SOURCE_SETTING = "SPARKIFY_SOURCE_URL"
WAREHOUSE_SETTING = "SPARKIFY_WAREHOUSE_URL"
PASSWORD_SETTING = "SPARKIFY_WAREHOUSE_PASSWORD"


class SettingProblem(dg.Failure):
    """A configuration or connectivity failure: ``message`` says what is wrong, which setting
    to change and how. ``can_heal``: a retry may succeed (a server restarting), so a run's retry
    policy applies; otherwise the step fails at once."""

    def __init__(self, message: str, *, setting: str, can_heal: bool = False) -> None:
        super().__init__(
            description=message,
            metadata={"setting": setting},
            allow_retries=can_heal,
        )
        self.message = message
        self.setting = setting
        self.can_heal = can_heal

    def __str__(self) -> str:
        return self.message
