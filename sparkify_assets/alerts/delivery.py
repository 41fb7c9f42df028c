"""Delivering an alert: always to the log, and to an SNS topic and/or a webhook when configured;
never with a secret in it (a webhook URL is one), Dagster's error text cut to a bounded size."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3

SUBJECT_LIMIT = 100  # SNS: ASCII, no line breaks, at most 100 characters
TEXT_LIMIT = 8_000  # an alert is a pointer to the run, not its log
WEBHOOK_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Alert:
    """What went wrong, in a subject line, a short text, and fields for machines."""

    subject: str
    text: str
    details: dict[str, Any] = field(default_factory=dict)

    def sns_subject(self) -> str:
        ascii_only = self.subject.encode("ascii", "replace").decode("ascii")
        return " ".join(ascii_only.split())[:SUBJECT_LIMIT]

    def body(self) -> dict[str, Any]:
        """The JSON both channels carry (``text`` is what Slack-style webhooks display)."""
        return {"subject": self.subject, "text": self.text[:TEXT_LIMIT], **self.details}


class AlertDeliveryFailed(Exception):
    """At least one configured channel did not take the alert (the others did)."""


def publish_to_sns(
    alert: Alert, topic_arn: str, *, region: str = "", endpoint_url: str = ""
) -> str:
    """Publishes ``alert`` to the topic; returns the message id. The region is the topic's own
    (from its ARN) unless given."""
    parts = topic_arn.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", parts[1], "sns"] or not parts[1].startswith("aws"):
        raise ValueError("SPARKIFY_ALERT_SNS_TOPIC_ARN is not an SNS topic ARN")
    client: Any = boto3.client(
        "sns", region_name=region or parts[3], endpoint_url=endpoint_url or None
    )
    response = client.publish(
        TopicArn=topic_arn,
        Subject=alert.sns_subject(),
        Message=json.dumps(alert.body(), default=str),
    )
    return str(response["MessageId"])


def post_to_webhook(alert: Alert, url: str) -> int:
    """POSTs the alert's JSON to ``url`` (http or https); returns the HTTP status."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("SPARKIFY_ALERT_WEBHOOK_URL must be an http(s) URL")
    request = urllib.request.Request(
        url,
        data=json.dumps(alert.body(), default=str).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "sparkify-assets-alert"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
        return int(response.status)


def deliver(
    alert: Alert,
    log: Callable[[str], None],
    *,
    sns_topic_arn: str = "",
    webhook_url: str = "",
    region: str = "",
    sns_endpoint_url: str = "",
) -> list[str]:
    """Logs ``alert``, then sends it to every configured channel; returns the channels that took
    it. Raises AlertDeliveryFailed (naming the channel, never its URL) when one did not, after
    trying them all."""
    log(f"ALERT {alert.subject}: {alert.text[:TEXT_LIMIT]}")
    delivered: list[str] = []
    failed: list[str] = []
    if sns_topic_arn:
        try:
            message_id = publish_to_sns(
                alert, sns_topic_arn, region=region, endpoint_url=sns_endpoint_url
            )
            delivered.append("sns")
            log(f"alert published to SNS topic {sns_topic_arn} (message {message_id})")
        except Exception as error:
            failed.append(f"SNS topic {sns_topic_arn}: {type(error).__name__}: {error}")
    if webhook_url:
        try:
            status = post_to_webhook(alert, webhook_url)
            delivered.append("webhook")
            log(f"alert posted to the webhook (HTTP {status})")
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            failed.append(f"webhook: {type(error).__name__}: {reason}")
    if failed:
        raise AlertDeliveryFailed("alert not delivered to " + "; ".join(failed))
    return delivered
