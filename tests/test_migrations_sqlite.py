"""Every append-only guard survives the migrations on SQLite (the `make run` database).

SQLite alters a table by rebuilding it, which drops its triggers: bills/migrations/0014 lost
bill history's guards that way, unseen, because the suite runs on PostgreSQL in CI. This test
migrates a fresh SQLite database in a child process (whatever database the suite runs on) and
checks the guards by name against this list, written from the migrations that add them.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

GUARDS = {
    # bills/migrations/0002, 0013, 0018: bill history can be neither edited nor emptied
    "bills_billaction_no_update",
    "bills_billaction_no_delete",
    # bills/migrations/0011, 0013: payments are kept
    "bills_payment_kept",
    "bills_payment_no_delete",
    # customers' model history (django-simple-history tables)
    "customers_historicalcustomer_no_update",
    "customers_historicalcustomer_no_delete",
    "customers_historicalcustomerterms_no_update",
    "customers_historicalcustomerterms_no_delete",
    # usage/migrations/0003: usage revisions
    "usage_usagerevision_no_update",
    "usage_usagerevision_no_delete",
}


def test_a_fresh_sqlite_database_has_every_history_guard(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(path) as db:
        triggers = {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    assert GUARDS - triggers == set()
