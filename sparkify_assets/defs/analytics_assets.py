"""The analytics assets, one per question of analytics/questions.py: each runs its query over the
whole star schema and records the answer (a markdown table, a chart, the row count) as metadata.
"""

import dagster as dg

from sparkify_assets.analytics.charts import markdown_table, png_markdown
from sparkify_assets.analytics.questions import QUESTIONS, QUESTIONS_BY_NAME, Question
from sparkify_assets.defs.analytics_automation import analytics_refresh
from sparkify_assets.defs.asset_groups import ANALYTICS_GROUP
from sparkify_assets.defs.resources import WarehouseResource
from sparkify_assets.warehouse.sql_code_references import sql_file_references
from sparkify_assets.warehouse.sql_files import SqlStatement, statement

OWNERS = ["team:analytics"]
KINDS = {"postgres", "redshift", "matplotlib"}


def _question_sql(question: str) -> SqlStatement:
    return statement(QUESTIONS_BY_NAME[question].statement_key)


def _definition_metadata(question: Question) -> dict[str, object]:
    """What the UI shows before any materialization: the answer's columns, a link to the SQL
    file and the query itself, ready to copy into a SQL client."""
    sql = _question_sql(question.name)
    return {
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(name=c.name, type=c.type, description=c.description)
                for c in question.columns
            ]
        ),
        "dagster/code_references": sql_file_references([(question.sql_path, "Query")]),
        "sql_file": f"sql/{question.sql_path}",
        "query": dg.MetadataValue.md(f"```sql\n{sql.text};\n```"),
    }


def _answer(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, question: Question
) -> dg.MaterializeResult:
    """Runs the question's query and turns its rows into the materialization's metadata."""
    with warehouse.open() as connection:
        rows = connection.query(_question_sql(question.name))
        engine = connection.engine
    documented = [c.name for c in question.columns]
    returned = [c for c in rows[0]] if rows else documented
    if returned != documented:
        raise dg.Failure(
            description=(
                f"sql/{question.sql_path} returned columns {returned}; the asset documents"
                f" {documented}. Update both together."
            )
        )
    context.log.info(f"{question.name}: {len(rows)} rows from {engine}")
    title = question.name.replace("_", " ")
    return dg.MaterializeResult(
        metadata={
            "answer": dg.MetadataValue.md(markdown_table(rows, question.columns)),
            "chart": dg.MetadataValue.md(png_markdown(question.chart(rows), alt=title)),
            "dagster/row_count": len(rows),
            "engine": engine,
        }
    )


def analytics_asset(question: Question) -> dg.AssetsDefinition:
    """The asset answering ``question``, refreshed after its tables change (analytics_refresh)."""

    @dg.asset(
        name=question.name,
        description=question.description,
        group_name=ANALYTICS_GROUP,
        kinds=KINDS,
        owners=OWNERS,
        deps=list(question.deps),
        automation_condition=analytics_refresh,
        metadata=_definition_metadata(question),
    )
    def answer(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        return _answer(context, warehouse, question)

    return answer


analytics_assets = [analytics_asset(question) for question in QUESTIONS]
