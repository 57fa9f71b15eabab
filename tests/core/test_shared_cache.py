"""The cache is one store for every process (issue 12, "Limits and locks shared across processes
and machines"): `migrate` makes the database cache's table; a process that is not a test uses it,
or Redis when REDIS_URL is set, and what one process counts there another sees."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache.backends.db import DatabaseCache
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
REDIS_TEST_URL = "redis://127.0.0.1:6379/9"  # a database number nothing else on the host uses

# Run in a fresh interpreter (not pytest, so the settings are the deployed ones): prints the
# cache backend's class, then counts one request against DRF's stock cache throttle, 3/min, for
# the ident in argv[1] and prints whether it was allowed.
PROBE = """
import sys, django
django.setup()
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

class Probe(SimpleRateThrottle):
    rate = "3/min"
    def get_cache_key(self, request, view):
        return "throttle_probe_" + sys.argv[1]

print(type(caches["default"]).__name__)
for _ in range(int(sys.argv[2])):
    print(Probe().allow_request(None, None))
"""


def _probe(ident: str, requests: int, **env_overrides: str) -> list[str]:
    """Run PROBE in a new process; its lines: the backend's class name, then True/False per
    request. Raises AssertionError with its stderr when the process fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    for key in ("REDIS_URL", "DATABASE_URL", "SECRET_KEY"):
        env.pop(key, None)
    env.update(DJANGO_SETTINGS_MODULE="billing_site.settings", DEBUG="1", **env_overrides)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, ident, str(requests)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def _test_database_url() -> str:
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def test_migrate_makes_the_cache_table_and_the_database_cache_works_in_it(db):
    assert settings.CACHE_TABLE in connection.introspection.table_names()
    cache = DatabaseCache(settings.CACHE_TABLE, {})
    cache.set("attempts", 1, timeout=60)
    assert cache.incr("attempts") == 2
    assert cache.get("attempts") == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (DATABASE_URL): the processes share the test database",
)
def test_without_redis_every_process_counts_in_the_database_cache():
    ident = uuid.uuid4().hex
    try:
        first = _probe(ident, 2, DATABASE_URL=_test_database_url())
        second = _probe(ident, 2, DATABASE_URL=_test_database_url())
        assert first == ["DatabaseCache", "True", "True"]
        assert second == ["DatabaseCache", "True", "False"]  # 3/min in total, not per process
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(settings.CACHE_TABLE)
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE cache_key LIKE %s", [f"%{ident}"])
            assert cursor.fetchone()[0] == 1
    finally:
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(settings.CACHE_TABLE)
            cursor.execute(f"DELETE FROM {table} WHERE cache_key LIKE %s", [f"%{ident}"])


@pytest.mark.skipif(not _redis_up(), reason="needs a Redis server on 127.0.0.1:6379")
def test_with_redis_url_every_process_counts_in_redis():
    import redis

    server = redis.Redis.from_url(REDIS_TEST_URL)
    ident = uuid.uuid4().hex
    try:
        first = _probe(ident, 2, REDIS_URL=REDIS_TEST_URL)
        second = _probe(ident, 2, REDIS_URL=REDIS_TEST_URL)
        assert first == ["RedisCache", "True", "True"]
        assert second == ["RedisCache", "True", "False"]  # 3/min in total, not per process
        assert server.keys(f"*throttle_probe_{ident}") != []
    finally:
        for key in server.scan_iter(f"*throttle_probe_{ident}"):
            server.delete(key)
        server.close()
