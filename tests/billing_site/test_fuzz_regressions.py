"""What the API fuzzing (test_fuzz_api.py) found, each kept as a plain test."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/bills", "/api/usage", "/api/customers", "/api/session"])
def test_options_is_refused_as_a_method_not_allowed_not_a_server_error(api_as, finance, path):
    # OPTIONS made DRF describe the POST form of views without a serializer_class: a 500.
    response = api_as(finance).options(f"{path}?page=1&year=2000")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "OPTIONS" not allowed.'}


def test_a_bad_item_in_a_list_is_reported_as_the_documented_field_messages(api_as, sales):
    # ListField reported {"ids": {"1": [...]}}; the schema (and docs/api.md) say {field: [text]}.
    response = api_as(sales).post("/api/bills/bulk/approve", {"ids": [1, "AAA", None]})
    assert response.status_code == 400
    assert response.json() == {
        "ids": [
            'item 2: Enter a whole number as a JSON integer, not the string "AAA".',
            "item 3: This field may not be null.",
        ]
    }
