"""Reading PostgreSQL plans in tests (the query shapes issue 14's speed rests on): EXPLAIN
(FORMAT JSON) of a statement, and every node of a plan."""

from __future__ import annotations

import json
from collections.abc import Iterator


def explain(cursor, sql: str, params=None, *, analyze: bool = False) -> dict:
    """The root node of `sql`'s plan (EXPLAIN (FORMAT JSON), with ANALYZE when asked) on
    `cursor`, a dict as PostgreSQL writes it ("Node Type", "Plans", ...)."""
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    cursor.execute(f"EXPLAIN ({options}) {sql}", params)
    explained = cursor.fetchone()[0]
    return (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]


def plan_nodes(plan: dict) -> Iterator[dict]:
    """Every node of a plan, the root first, depth first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)
