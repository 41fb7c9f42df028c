"""The sample data set used when no source is configured: generated once, deterministically."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


def default_sample_source(home: Path) -> Path:
    """``<home>/sample_source``, generated from the default SampleSpec on first use, atomically."""
    from sparkify_assets.sample_data.generator import write_sample_source
    from sparkify_assets.sample_data.spec import SampleSpec

    target = home / "sample_source"
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix="sample_source.", dir=home))
    try:
        write_sample_source(staging, SampleSpec())
        staging.rename(target)
    except OSError:
        if not target.is_dir():  # not a lost race with another process: a real failure
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
