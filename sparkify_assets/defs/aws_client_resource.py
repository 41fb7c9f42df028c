"""The settings of an AWS client resource (region, profile, endpoint, retries, keys), by the names
dagster-aws uses, without importing dagster-aws where no S3 is read (docs/architecture.md)."""

from __future__ import annotations

import dagster as dg
from botocore.config import Config
from pydantic import Field


class AwsClientResource(dg.ConfigurableResource):
    """How boto clients are made; every setting empty: the standard AWS chain decides."""

    region_name: str | None = Field(default=None, description="The AWS region of the clients.")
    max_attempts: int = Field(
        default=5,
        description="Attempts per AWS call, the first included (botocore's standard retry mode).",
    )
    profile_name: str | None = Field(
        default=None, description="A profile of the shared AWS config to take credentials from."
    )
    use_ssl: bool = Field(default=True, description="Whether the clients use TLS.")
    endpoint_url: str | None = Field(
        default=None,
        description="Another endpoint (an AWS-compatible server); empty: what botocore resolves.",
    )
    verify: bool | None = Field(default=True, description="Whether TLS certificates are verified.")
    aws_access_key_id: str | None = Field(
        default=None, description="An access key ID; empty: the standard AWS credential chain."
    )
    aws_secret_access_key: str | None = Field(
        default=None, description="Its secret access key (best given as {'env': ...})."
    )
    aws_session_token: str | None = Field(
        default=None, description="A session token for temporary credentials."
    )

    def retry_config(self) -> Config:
        """botocore's standard retry mode with ``max_attempts``."""
        return Config(retries={"max_attempts": self.max_attempts, "mode": "standard"})
