"""Delivering failure alerts: the log, an SNS topic, a webhook."""
