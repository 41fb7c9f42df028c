"""The analytics assets are made from analytics/questions.py, one per question, and carry exactly
what the list says (keys, tables read, description, columns, query, automation)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from sparkify_assets.analytics.questions import QUESTIONS
from sparkify_assets.definitions import defs
from sparkify_assets.defs.analytics_automation import analytics_refresh
from sparkify_assets.defs.asset_groups import ANALYTICS_GROUP
from sparkify_assets.warehouse.sql_files import sql_root, statement


def test_the_analytics_group_holds_one_asset_per_question() -> None:
    graph = defs.resolve_asset_graph()
    group = dg.AssetSelection.groups(ANALYTICS_GROUP).resolve(graph)
    assert sorted(k.to_user_string() for k in group) == sorted(q.name for q in QUESTIONS)
    assert len({q.name for q in QUESTIONS}) == len(QUESTIONS)
    assert {
        "free_vs_paid_plays": {"songplays"},
        "most_active_users": {"songplays", "users"},
        "plays_by_hour": {"songplays", "time"},
        "top_artists_by_month": {"songplays", "artists", "time"},
        "top_songs_by_month": {"songplays", "songs", "artists", "time"},
    } == {k.to_user_string(): {p.to_user_string() for p in graph.get(k).parent_keys} for k in group}


def test_each_asset_carries_its_questions_definition() -> None:
    graph = defs.resolve_asset_graph()
    for question in QUESTIONS:
        node = graph.get(dg.AssetKey(question.name))
        assert node.description == question.description
        assert node.owners == ["team:analytics"]
        assert node.kinds == {"postgres", "redshift", "matplotlib"}
        assert node.automation_condition == analytics_refresh
        assert sorted(p.to_user_string() for p in node.parent_keys) == sorted(question.deps)
        schema = node.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema.columns] == [
            (c.name, c.type, c.description) for c in question.columns
        ]
        assert node.metadata["sql_file"] == f"sql/analytics/{question.name}.sql"
        sql = statement(f"analytics/{question.name}.{question.name}")
        assert node.metadata["query"].value == f"```sql\n{sql.text};\n```"
        references = node.metadata["dagster/code_references"].code_references
        assert [(r.file_path, r.label) for r in references[:1]] == [
            (
                str(sql_root() / "analytics" / f"{question.name}.sql"),
                f"Query: sql/analytics/{question.name}.sql",
            )
        ]
        python = [r for r in references if r.file_path.endswith(".py")]
        assert python and Path(python[0].file_path).name == "analytics_assets.py"
