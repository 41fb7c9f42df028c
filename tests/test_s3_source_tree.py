"""The S3 source tree against a real S3-compatible HTTP server (moto in server mode)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from botocore.exceptions import ClientError

from sparkify_assets.commands.build import build_warehouse
from sparkify_assets.definitions import defs
from sparkify_assets.defs.resources import SourceResource
from sparkify_assets.source.local_tree import LocalSourceTree
from sparkify_assets.source.s3_tree import (
    S3SourceTree,
    SourceAccessDenied,
    SourceBucketMissing,
    split_s3_url,
)
from sparkify_assets.source.tree import SourceFileMissing
from tests.conftest import resources_for
from tests.reference_warehouse import reference_warehouse
from tests.support.locked_versions import holds_for
from tests.support.s3_server import (
    FaultyS3Front,
    S3Bucket,
)
from tests.warehouse_state import assert_matches_reference


@pytest.fixture
def uploaded(s3_bucket: S3Bucket, small_source: Path) -> S3Bucket:
    """The small source under ``s3://<bucket>/raw/``."""
    s3_bucket.upload_tree(small_source, "raw/")
    return s3_bucket


def test_split_s3_url() -> None:
    assert split_s3_url("s3://udacity-dend") == ("udacity-dend", "")
    assert split_s3_url("s3://bucket/a/b/") == ("bucket", "a/b/")
    with pytest.raises(ValueError, match="without a bucket"):
        split_s3_url("s3:///x")


def test_s3_tree_lists_and_streams_like_the_local_tree(
    uploaded: S3Bucket, small_source: Path
) -> None:
    # No endpoint given: AWS_ENDPOINT_URL (set by the fixture) must be honoured.
    tree = SourceResource(url=uploaded.url("raw")).tree()
    local = LocalSourceTree(small_source)

    assert tree.url == f"s3://{uploaded.name}/raw"
    assert [(d, f.key, f.size) for d, f in tree.log_files()] == [
        (d, f.key, f.size) for d, f in local.log_files()
    ]
    assert [f.key for f in tree.song_files()] == [f.key for f in local.song_files()]
    day, first = next(iter(tree.log_files()))
    assert tree.log_file(day) == first
    assert len(first.version) == 32  # the ETag, without quotes
    with tree.open(first) as stream, local.open(local.log_file(day)) as expected:
        assert stream.readline(10) == expected.readline(10)
        assert stream.readline(1_000_000) == expected.readline(1_000_000)
        assert stream.read() == expected.read()


def test_whole_warehouse_builds_from_s3(
    uploaded: S3Bucket, small_source: Path, warehouse_url: str
) -> None:
    outcome = build_warehouse(defs, resources=resources_for(warehouse_url, uploaded.url("raw")))

    assert outcome.succeeded
    assert_matches_reference(warehouse_url, reference_warehouse(small_source))


def test_listing_paginates_past_1000_keys(s3_bucket: S3Bucket) -> None:
    s3_bucket.put_many((f"log_data/2018/11/foreign-{n:04d}.txt", b"x") for n in range(1003))
    s3_bucket.put("log_data/2018/11/2018-11-30-events.json", b"{}\n")
    s3_bucket.put("log_data/2018/12/2018-12-01-events.json", b"{}\n")
    tree = S3SourceTree.from_url(s3_bucket.url())

    assert len(list(tree.list_objects("log_data/"))) == 1005
    assert [d for d, _ in tree.log_files()] == [date(2018, 11, 30), date(2018, 12, 1)]


def test_explicit_endpoint_and_region(uploaded: S3Bucket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    resource = SourceResource(
        url=uploaded.url("raw"), s3_endpoint_url=uploaded.endpoint_url, s3_region="eu-west-1"
    )
    tree = resource.tree()
    assert isinstance(tree, S3SourceTree)
    assert tree.client.meta.region_name == "eu-west-1"
    assert tree.client.meta.endpoint_url == uploaded.endpoint_url
    assert len(list(tree.log_files())) == 6


def test_objects_are_streamed_not_read_whole(s3_bucket: S3Bucket) -> None:
    line = b'{"page": "Home", "padding": "' + b"x" * 1000 + b'"}\n'
    body = line * 20_000  # 20 MB
    s3_bucket.put("log_data/2018/11/2018-11-02-events.json", body)
    tree = S3SourceTree.from_url(s3_bucket.url())
    file = tree.log_file(date(2018, 11, 2))

    with tree.open(file) as stream:
        assert stream.readline(100_000) == line
        # Only one buffer's worth has come over the connection so far.
        received = stream.raw._body._amount_read  # type: ignore[attr-defined]
        assert 0 < received <= 512 * 1024
        lines = 1
        while stream.readline(100_000):
            lines += 1
    assert lines == 20_000


def test_missing_bucket_is_named(s3_environment: str) -> None:
    tree = S3SourceTree.from_url("s3://no-such-sparkify-bucket/raw")

    with pytest.raises(SourceBucketMissing, match="'no-such-sparkify-bucket' does not exist"):
        list(tree.log_files())
    with pytest.raises(SourceBucketMissing) as missing:
        tree.log_file(date(2018, 11, 3))
    assert "raw/log_data/2018/11/2018-11-03-events.json" in str(missing.value)


def test_missing_key_says_which(uploaded: S3Bucket) -> None:
    tree = S3SourceTree.from_url(uploaded.url("raw"))
    with pytest.raises(SourceFileMissing, match="no log file for 2019-03-01") as missing:
        tree.log_file(date(2019, 3, 1))
    assert f"s3://{uploaded.name}/raw/log_data/2019/03/2019-03-01-events.json" in str(missing.value)


def test_missing_bucket_fails_the_asset_with_a_clear_message(
    s3_environment: str,
    warehouse_url: str,
) -> None:
    result = dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        selection=["staging_events"],
        partition_key="2018-11-02",
        resources=resources_for(warehouse_url, "s3://no-such-sparkify-bucket/raw"),
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    message = failure.step_failure_data.error.message  # type: ignore[union-attr]
    assert "S3 bucket 'no-such-sparkify-bucket' does not exist" in message


def test_access_denied_names_bucket_and_key(uploaded: S3Bucket) -> None:
    with FaultyS3Front(uploaded.endpoint_url, failures=100, status=403, code="AccessDenied") as f:
        tree = SourceResource(url=uploaded.url("raw"), s3_endpoint_url=f.url).tree()
        with pytest.raises(SourceAccessDenied) as denied:
            list(tree.log_files())
    message = str(denied.value)
    assert f"access denied to S3 bucket {uploaded.name!r}" in message
    assert "'raw/log_data/'" in message


def test_throttling_is_retried_with_backoff(uploaded: S3Bucket) -> None:
    with FaultyS3Front(uploaded.endpoint_url, failures=2) as front:
        tree = SourceResource(url=uploaded.url("raw"), s3_endpoint_url=front.url).tree()
        assert len(list(tree.log_files())) == 6
    assert front.listings() == 3  # two 503 SlowDown answers, then the listing

    # botocore counts max_attempts as retries after the first request (dagster-aws's field
    # description says otherwise): 1 -> two requests, then the error surfaces.
    holds_for("botocore", "1.44.8")
    with FaultyS3Front(uploaded.endpoint_url, failures=3) as front:
        tree = SourceResource(
            url=uploaded.url("raw"), s3_endpoint_url=front.url, s3_max_attempts=1
        ).tree()
        with pytest.raises(ClientError, match="SlowDown"):
            list(tree.log_files())
    assert front.listings() == 2
