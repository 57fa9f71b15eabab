"""The seed's five tables, column by column, held against the models.

The seed document the product was created from lists these tables; every column must exist
with a compatible type and its not-null/unique details. Written out here as data (copied from
the seed, not read from the models), so a column that goes missing turns this test red.
Decided renames and stricter types are listed with their reason.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

# table -> model; each row: (column, seed type, seed details)
SEED = {
    "users": (
        "accounts.User",
        [
            ("id", "integer", "primary key, not null"),
            ("name", "string", "not null, indexed, unique"),
            ("email", "string", ""),
            ("role", "string", "not null"),
            ("password_digest", "string", "not null"),
            ("session_token", "string", "not null, indexed, unique"),
        ],
    ),
    "customers": (
        "customers.Customer",
        [
            ("id", "integer", "primary key, not null"),
            ("csm_id", "integer", "foreign key (users), indexed"),
            ("name", "string", ""),
            ("billing_address", "string", ""),
            ("billing_email", "string", ""),
            ("monthly_api_limit", "integer", ""),
            ("overage_unit_cost", "float", ""),
            ("start_date", "date", ""),
            ("end_date", "date", ""),
            ("require_csm_approval", "boolean", ""),
        ],
    ),
    "usage": (
        "usage.Usage",
        [
            ("id", "integer", "primary key, not null"),
            ("customer_id", "integer", "foreign key (customers), not null"),
            ("month", "integer", ""),
            ("year", "integer", ""),
            ("api_usage", "integer", ""),
        ],
    ),
    "bills": (
        "bills.Bill",
        [
            ("id", "integer", "primary key, not null"),
            ("customer_id", "integer", "foreign key (customers), not null"),
            ("month", "integer", ""),
            ("year", "integer", ""),
            ("overage_units", "integer", ""),
            ("overage_unit_cost", "float", ""),
            ("overage_amount", "float", ""),
            ("status", "string", ""),
            ("created_at", "datetime", ""),
            ("updated_at", "datetime", ""),
        ],
    ),
    "bill actions": (
        "bills.BillAction",
        [
            ("id", "integer", "primary key, not null"),
            ("bill_id", "integer", "foreign key (bills), not null"),
            ("stakeholder_id", "integer", "foreign key (users), not null"),
            ("action", "string", ""),
            ("comment", "string", ""),
            ("created_at", "datetime", "not null"),
            ("updated_at", "datetime", "not null"),
        ],
    ),
}

# Decided differences, each with its reason.
RENAMED = {
    # Django's password column holds the bcrypt digest (BCryptSHA256 first, SPEC "Data").
    ("users", "password_digest"): "password",
}
TYPES = {
    "integer": (models.AutoField, models.BigAutoField, models.IntegerField, models.ForeignKey),
    # SPEC "Data": money is Decimal, never float.
    "float": (models.DecimalField,),
    "string": (models.CharField, models.TextField),
    "date": (models.DateField,),
    "datetime": (models.DateTimeField,),
    "boolean": (models.BooleanField,),
}
FOREIGN_KEYS = {"users": "accounts.User", "customers": "customers.Customer", "bills": "bills.Bill"}

COLUMNS = [
    pytest.param(table, model, column, kind, details, id=f"{table}.{column}")
    for table, (model, columns) in SEED.items()
    for column, kind, details in columns
]


def _field(model_label: str, table: str, column: str) -> models.Field:
    model = apps.get_model(model_label)
    column = RENAMED.get((table, column), column)
    by_column = {f.column: f for f in model._meta.concrete_fields}
    assert column in by_column, f"{model_label} has no column {column}"
    return by_column[column]


@pytest.mark.parametrize(("table", "model", "column", "kind", "details"), COLUMNS)
def test_every_seed_column_is_a_model_column_of_its_type(table, model, column, kind, details):
    field = _field(model, table, column)
    assert isinstance(field, TYPES[kind]), f"{column} is a {type(field).__name__}"
    if "not null" in details:
        assert not field.null
    if "unique" in details:
        assert field.unique
    if "primary key" in details:
        assert field.primary_key
    if "foreign key" in details:
        target = details.split("(")[1].split(")")[0]
        assert field.is_relation
        assert field.related_model is apps.get_model(FOREIGN_KEYS[target])
    if "indexed" in details:
        assert field.db_index or field.unique or field.is_relation


def test_the_seed_lists_five_tables():
    assert list(SEED) == ["users", "customers", "usage", "bills", "bill actions"]
