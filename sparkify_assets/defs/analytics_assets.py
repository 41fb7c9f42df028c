"""The analytics assets, one per question of analytics/questions.py, computed by one step that can
run any subset of them: each runs its query over the whole star schema and records the answer (a
markdown table, a chart, the row count) as metadata; the queries run side by side.
"""

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from queue import Queue

import dagster as dg

from sparkify_assets.analytics.charts import load_drawing_library, markdown_table, png_markdown
from sparkify_assets.analytics.questions import QUESTIONS, QUESTIONS_BY_NAME, Question
from sparkify_assets.defs.analytics_automation import analytics_refresh
from sparkify_assets.defs.asset_groups import ANALYTICS_GROUP
from sparkify_assets.defs.resources import WarehouseResource
from sparkify_assets.warehouse.interface import Warehouse
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


# Queries in flight at once: each on a connection of its own, while this step's thread draws the
# chart of an answer already in (matplotlib holds the GIL; a query waiting on the server does not).
# The analytics ran one after the other before: 3.7 s on 1M plays, 2.2 s of it waiting on SQL.
QUERY_CONNECTIONS = 2


def _check_columns(question: Question, rows: list[dict[str, object]]) -> None:
    documented = [c.name for c in question.columns]
    returned = [c for c in rows[0]] if rows else documented
    if returned != documented:
        raise dg.Failure(
            description=(
                f"sql/{question.sql_path} returned columns {returned}; the asset documents"
                f" {documented}. Update both together."
            )
        )


def _answer_result(
    question: Question, rows: list[dict[str, object]], engine: str
) -> dg.MaterializeResult:
    """The question's rows as its materialization: a markdown table, a chart, the row count."""
    title = question.name.replace("_", " ")
    return dg.MaterializeResult(
        asset_key=question.name,
        metadata={
            "answer": dg.MetadataValue.md(markdown_table(rows, question.columns)),
            "chart": dg.MetadataValue.md(png_markdown(question.chart(rows), alt=title)),
            "dagster/row_count": len(rows),
            "engine": engine,
        },
    )


def _answers(
    warehouse: WarehouseResource, questions: Sequence[Question]
) -> Iterator[tuple[Question, Future[list[dict[str, object]]], str]]:
    """Each question with its query's rows to come, in ``questions`` order; the queries run on up
    to QUERY_CONNECTIONS connections at once (opened here, first, so only one makes the warehouse
    ready)."""
    with ExitStack() as stack:
        opened = [
            stack.enter_context(warehouse.open())
            for _ in range(min(QUERY_CONNECTIONS, len(questions)))
        ]
        connections: Queue[Warehouse] = Queue()
        for connection in opened:
            connections.put(connection)
        engine = opened[0].engine if opened else ""

        def query(question: Question) -> list[dict[str, object]]:
            connection = connections.get()
            try:
                return connection.query(_question_sql(question.name))
            finally:
                connections.put(connection)

        pool = stack.enter_context(ThreadPoolExecutor(max_workers=QUERY_CONNECTIONS))
        futures = [pool.submit(query, question) for question in questions]
        consumed = False
        try:
            if futures:
                load_drawing_library()  # while the first queries run
            for question, future in zip(questions, futures, strict=True):
                yield question, future, engine
            consumed = True
        finally:
            if not consumed:  # the step is stopping: no query left running for the pool to await
                for future in futures:
                    future.cancel()
                for connection in opened:
                    connection.cancel_running()


def _answer_spec(question: Question) -> dg.AssetSpec:
    """The asset answering ``question``, refreshed after its tables change (analytics_refresh)."""
    return dg.AssetSpec(
        key=question.name,
        description=question.description,
        group_name=ANALYTICS_GROUP,
        kinds=KINDS,
        owners=OWNERS,
        deps=list(question.deps),
        automation_condition=analytics_refresh,
        metadata=_definition_metadata(question),
    )


@dg.multi_asset(
    name="analytics_answers",
    specs=[_answer_spec(question) for question in QUESTIONS],
    can_subset=True,  # the automation and the UI refresh any subset of the answers
)
def analytics_answers(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """Runs the selected questions' queries and records each answer. A question that fails does
    not stop the others: their answers are recorded, then the step fails naming each failed one
    (its error's traceback in the step's log)."""
    selected = [q for q in QUESTIONS if dg.AssetKey(q.name) in context.selected_asset_keys]
    failed: list[tuple[Question, Exception]] = []
    for question, rows_to_come, engine in _answers(warehouse, selected):
        try:
            rows = rows_to_come.result()
            _check_columns(question, rows)
            answer = _answer_result(question, rows, engine)
        except Exception as error:  # the others still get their answers
            context.log.exception(f"{question.name} failed")
            failed.append((question, error))
            continue
        context.log.info(f"{question.name}: {len(rows)} rows from {engine}")
        yield answer
    if failed:
        raise dg.Failure(
            description="; ".join(f"{q.name}: {_one_line(error)}" for q, error in failed),
            metadata={"failed_questions": [q.name for q, _ in failed]},
            allow_retries=False,
        )


def _one_line(error: Exception) -> str:
    """An error's message in one line (a dg.Failure's description, else its text)."""
    text = error.description if isinstance(error, dg.Failure) and error.description else str(error)
    return " ".join(text.split()) or type(error).__name__


analytics_assets = [analytics_answers]
