"""Upgrades say what to do: a migration that adds a constraint checks the data first, and stops
with the clashing rows and the fix (docs/operations.md) instead of a raw IntegrityError."""

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("accounts", "0001_initial")
CONSTRAINT = ("accounts", "0002_user_name_unique_ignoring_case")


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_users_whose_names_differ_only_by_case_stop_the_upgrade_with_a_list():
    leaves = latest()
    migrate([BEFORE])
    try:
        User = (
            MigrationExecutor(connection)
            .loader.project_state(BEFORE)
            .apps.get_model("accounts", "User")
        )
        for name, token in [("alice", "t1"), ("Alice", "t2"), ("ALICE", "t3"), ("bob", "t4")]:
            User.objects.create(name=name, password="!", role="Sales", session_token=token)
        ids = dict(User.objects.values_list("name", "pk"))

        with pytest.raises(CommandError) as refused:
            migrate([CONSTRAINT])

        assert str(refused.value) == (
            "User names must be unique ignoring case, and these users' names differ only by "
            "case:\n"
            f"  - “alice” (id {ids['alice']}), “Alice” (id {ids['Alice']}), "
            f"“ALICE” (id {ids['ALICE']})\n"
            "Rename all but one user of each line (or deactivate and rename the duplicate), then "
            'run migrate again. See docs/operations.md, "Upgrading: clashing user names".'
        )
        User.objects.filter(name__in=["Alice", "ALICE"]).delete()
        migrate([CONSTRAINT])  # once renamed or removed, the upgrade goes through
    finally:
        User.objects.filter(name__in=["Alice", "ALICE"]).delete()
        migrate(leaves)
