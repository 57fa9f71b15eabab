"""The logging configuration (issue 12: one JSON object per line in production, each line with
the request id, carried into tasks; plain text for a terminal). Kept out of settings.py, which
calls `logging_settings` with LOG_FORMAT and LOG_LEVEL."""

from __future__ import annotations


def logging_settings(*, log_format: str, level: str) -> dict:
    """settings.LOGGING for `log_format` ("json" or "text") at `level` (a logging level name):
    one console handler stamping `request_id` (billing_site.core.request_id) on every record."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "billing_site.core.request_id.RequestIdFilter"}},
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "format": "%(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",  # ISO 8601, UTC
            },
            "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # fontTools (the PDF fonts' subsetter) reports every glyph it keeps at INFO. health_check
        # logs each failed readiness probe with a traceback; the 503 answer and Django's "Service
        # Unavailable" line say it already, and its unexpected errors are ERRORs.
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "fontTools": {"level": "WARNING"},
            "health_check": {"level": "ERROR"},
        },
    }
