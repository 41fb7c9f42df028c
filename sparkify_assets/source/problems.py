"""The source setting's problems: a missing directory or bucket, denied access, no credentials."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sparkify_assets.settings.problems import SOURCE_SETTING, SettingProblem

_CREDENTIALS_FIX = (
    "set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run where an instance"
    " role applies"
)


def source_problem(error: Exception, source: str) -> SettingProblem | None:
    """The SettingProblem of an error met while opening or listing the source ``source``, or
    None when the error is not about the setting (a bad file, a network fault)."""
    from botocore.exceptions import (
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    from sparkify_assets.source.s3_tree import SourceAccessDenied, SourceBucketMissing
    from sparkify_assets.source.tree import SourceDirectoryMissing

    if isinstance(error, SourceDirectoryMissing):
        return SettingProblem(
            f"{SOURCE_SETTING}: {error}. Set it to a directory holding song_data/ and log_data/"
            " or to s3://bucket/prefix, or unset it to use the generated sample data.",
            setting=SOURCE_SETTING,
        )
    if isinstance(error, SourceBucketMissing):
        return SettingProblem(
            f"{SOURCE_SETTING}: {error}. Fix the bucket name in {SOURCE_SETTING}.",
            setting=SOURCE_SETTING,
        )
    if isinstance(error, SourceAccessDenied):
        return SettingProblem(
            f"{SOURCE_SETTING}: {error}.", setting=SOURCE_SETTING
        )  # the message already says what to check
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return SettingProblem(
            f"{SOURCE_SETTING}: no AWS credentials to read {source}: {_CREDENTIALS_FIX}.",
            setting="AWS_PROFILE",
        )
    if isinstance(error, NoRegionError):
        return SettingProblem(
            f"{SOURCE_SETTING}: no AWS region for {source}: set AWS_REGION.",
            setting="AWS_REGION",
        )
    if isinstance(error, EndpointConnectionError):
        return SettingProblem(
            f"{SOURCE_SETTING}: cannot reach the S3 endpoint for {source} ({error}). Check the"
            " network, SPARKIFY_S3_ENDPOINT_URL and AWS_ENDPOINT_URL.",
            setting="SPARKIFY_S3_ENDPOINT_URL",
            can_heal=True,
        )
    if isinstance(error, ValueError) and "source URL" in str(error):
        return SettingProblem(f"{SOURCE_SETTING}: {error}.", setting=SOURCE_SETTING)
    return None


@contextmanager
def reported_source_problems(source: str) -> Iterator[None]:
    """Turns an error about the source setting raised in the block (a missing bucket, denied
    access, no credentials) into its SettingProblem; other errors pass unchanged."""
    try:
        yield
    except SettingProblem:
        raise
    except Exception as error:
        problem = source_problem(error, source)
        if problem is None:
            raise
        raise problem from None
