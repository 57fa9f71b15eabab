"""Production configuration: refuses to start without a key, and `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env_overrides) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    for key in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "EMAIL_BACKEND"):
        env.pop(key, None)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_without_secret_key_when_debug_is_off():
    result = _manage("check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_mode_starts_without_secret_key():
    result = _manage("check", DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_is_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="x7Qv3-production-like-secret-key-with-enough-entropy-9fK2mZpL0aWq8sTn",
        ALLOWED_HOSTS="billing.example.com",
        DATABASE_URL="postgres://billing@db.internal:5432/billing",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_when_production_is_misconfigured():
    # The check above would pass vacuously if --deploy saw nothing; prove it does look.
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="x7Qv3-production-like-secret-key-with-enough-entropy-9fK2mZpL0aWq8sTn",
        ALLOWED_HOSTS="billing.example.com",
        SESSION_COOKIE_SECURE="0",
    )
    assert result.returncode != 0
    assert "security.W012" in result.stdout + result.stderr


def test_empty_database_url_means_sqlite():
    result = _manage(
        "shell",
        "-c",
        "from django.db import connection; print(connection.vendor)",
        DEBUG="1",
        DATABASE_URL="",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("sqlite")


def _database_options(url: str) -> str:
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))",
        DEBUG="1",
        DATABASE_URL=url,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_postgresql_connections_turn_jit_off_unless_the_url_says_otherwise():
    # JIT compiling cost the analysis pages 60-200 ms a query (docs/decisions.md); an
    # `options` given in DATABASE_URL comes after ours, so PostgreSQL applies it last.
    base = "postgres://billing@db.internal:5432/billing"
    assert _database_options(base) == "{'options': '-c jit=off'}"
    with_url = _database_options(base + "?options=-c%20jit%3Don%20-c%20work_mem%3D64MB")
    assert with_url == "{'options': '-c jit=off -c jit=on -c work_mem=64MB'}"
    assert _database_options("") != "{'options': '-c jit=off'}"  # SQLite: no such option


def _allow_signup(**env) -> str:
    result = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.ALLOW_SIGNUP)", **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


PRODUCTION = {"SECRET_KEY": "x7Qv3-production-like-secret-key-with-enough-entropy-9fK2mZpL0aWq8sTn"}


def test_signup_is_off_by_default_in_production():
    # Sign-up lets the visitor pick any role, Finance included: never open by accident.
    assert _allow_signup(**PRODUCTION) == "False"


def test_signup_is_on_by_default_in_development_and_can_be_turned_on_in_production():
    assert _allow_signup(DEBUG="1") == "True"
    assert _allow_signup(**PRODUCTION, ALLOW_SIGNUP="1") == "True"
    assert _allow_signup(DEBUG="1", ALLOW_SIGNUP="0") == "False"


def test_makemigrations_check_runs_without_a_secret_key():
    # It only reads the code: a bare checkout (and CI's project checks) can run it.
    result = _manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_serving_commands_still_refuse_without_a_secret_key():
    result = _manage("runserver", "--noreload", "127.0.0.1:0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def _mailers(**env) -> str:
    code = "from django.conf import settings; print(repr(settings.MAILERS))"
    result = _manage("shell", "-c", code, DEBUG="1", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_file_backend_writes_where_email_file_path_says(tmp_path):
    shown = _mailers(
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path),
    )
    assert f"'file_path': '{tmp_path}'" in shown


def test_email_options_pass_any_option_to_the_backend():
    shown = _mailers(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="smtp.example.com",
        EMAIL_OPTIONS='{"timeout": 7, "ssl_certfile": "/etc/ssl/client.pem"}',
    )
    assert "'host': 'smtp.example.com'" in shown
    assert "'timeout': 7" in shown and "'ssl_certfile': '/etc/ssl/client.pem'" in shown


def test_bad_email_options_or_currency_stop_the_app_with_a_clear_message():
    result = _manage("check", DEBUG="1", EMAIL_OPTIONS="{not json")
    assert result.returncode != 0 and "EMAIL_OPTIONS is not a JSON object" in result.stderr
    result = _manage("check", DEBUG="1", CURRENCY="dollars")
    assert result.returncode != 0 and "CURRENCY must be an ISO 4217 code" in result.stderr
    assert _manage("check", DEBUG="1", CURRENCY="eur").returncode == 0


def test_the_apps_postgresql_connection_runs_without_jit(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        assert "options" not in connection.settings_dict.get("OPTIONS", {})  # SQLite has none
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
