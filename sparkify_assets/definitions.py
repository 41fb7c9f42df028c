"""The code location: every asset, check, job, sensor and resource of sparkify_assets."""

import dagster as dg

from sparkify_assets.defs import staging_assets, star_assets
from sparkify_assets.defs.resources import SourceResource, WarehouseResource
from sparkify_assets.lib.environment import env_setting

defs = dg.Definitions(
    assets=dg.with_source_code_references(
        [*dg.load_assets_from_modules([staging_assets, star_assets])]
    ),
    resources={
        "source": SourceResource(url=env_setting("SPARKIFY_SOURCE_URL")),
        "warehouse": WarehouseResource(
            url=env_setting("SPARKIFY_WAREHOUSE_URL"),
            password=env_setting("SPARKIFY_WAREHOUSE_PASSWORD"),
            iam_role_arn=env_setting("SPARKIFY_REDSHIFT_IAM_ROLE_ARN"),
            region=env_setting("AWS_REGION"),
        ),
    },
)
