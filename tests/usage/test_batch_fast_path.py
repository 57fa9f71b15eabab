"""A batch's fast path (usage.services.recording._parsed, issue 14) stages exactly the items
usage_row_parse accepts, with the same values, and leaves the wording of every refusal to it:
checked on generated items around every range's edges, with bools, floats, strings, missing and
extra keys."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from billing_site.core import numbers
from usage.services import recording
from usage.services.rows import FIELDS, JSON, usage_row_parse

EDGES = [
    -1,
    0,
    1,
    11,
    12,
    13,
    1999,
    2000,
    2025,
    2999,
    3000,
    numbers.MAX_INT64,
    numbers.MAX_INT64 + 1,
]
VALUES = st.one_of(
    st.sampled_from(EDGES),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.none(),
    st.sampled_from(["7", "1e3", 7.0]),
)
ITEMS = st.one_of(
    st.fixed_dictionaries({name: VALUES for name in FIELDS}),
    st.dictionaries(st.sampled_from([*FIELDS, "extra"]), VALUES, max_size=5),
)


@settings(max_examples=400, deadline=None)
@given(item=ITEMS)
@example(item={"customer_id": 1, "year": 2025, "month": 3, "api_usage": 0})
@example(item={"customer_id": True, "year": 2025, "month": 3, "api_usage": 0})
@example(item={"customer_id": 1, "year": 2025, "month": 13, "api_usage": 0})
def test_the_fast_path_stages_what_the_parser_accepts(item):
    staged, errors = recording._parsed([item])
    row, row_errors = usage_row_parse(raw=item, row=0, source=JSON)
    if row is None:
        assert staged == [] and errors == row_errors
    else:
        assert staged == [(0, row.customer_id, row.year, row.month, row.api_usage)]
        assert errors == []
