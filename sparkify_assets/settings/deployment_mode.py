"""Which data a deployment runs on, and the one combination refused before anything runs: a real
warehouse with no ``SPARKIFY_SOURCE_URL`` (docs/operations.md, "Which mode a deployment is in")."""

from __future__ import annotations

LAPTOP = "laptop: embedded PostgreSQL, generated sample data"
EMBEDDED_WITH_SOURCE = "embedded PostgreSQL, source from SPARKIFY_SOURCE_URL"
REAL = "warehouse from SPARKIFY_WAREHOUSE_URL, source from SPARKIFY_SOURCE_URL"
REFUSED = "refused: SPARKIFY_WAREHOUSE_URL is set but SPARKIFY_SOURCE_URL is not"


_WAREHOUSE_SCHEMES = ("postgresql", "postgres", "redshift")


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "(no scheme)"


def configuration_problem(source_url: str, warehouse_url: str) -> str | None:
    """The one-line reason this combination is refused, or None when it is fine (a URL of an
    unknown scheme is left to the connection, whose message names the schemes it takes)."""
    if _scheme(warehouse_url.strip()) in _WAREHOUSE_SCHEMES and not source_url.strip():
        return (
            f"SPARKIFY_WAREHOUSE_URL names a real warehouse ({_scheme(warehouse_url.strip())}://…)"
            " but SPARKIFY_SOURCE_URL is not set: the generated sample data is only used with the"
            " embedded PostgreSQL. Set SPARKIFY_SOURCE_URL to the raw data (s3://bucket/prefix or"
            " a directory), or unset SPARKIFY_WAREHOUSE_URL for a local build."
        )
    return None


def deployment_mode(source_url: str, warehouse_url: str) -> str:
    """What a deployment with these two settings runs on, in words (shown in the resource view)."""
    if configuration_problem(source_url, warehouse_url):
        return REFUSED
    if warehouse_url.strip():
        return REAL
    return EMBEDDED_WITH_SOURCE if source_url.strip() else LAPTOP
