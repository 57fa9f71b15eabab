"""Writes of usage (SPEC "Data": Usage; "JSON API": POST /api/usage).

- rows: the one row schema (`usage_row_parse`) and the sentences of every refusal.
- batch: checking and writing a batch set-based in SQL, with its revisions (`UsageBatch`).
- recording: `usage_record_many` (the API, the page's form, the admin), `usage_check_many`.
- uploads: a file's preview and its Confirm (the record page).
- imports: a file of any size, streamed (`import_usage`); imported by the command itself.
"""

from usage.services.batch import StagedRow, UsageBatch, UsageChange, UsageResult
from usage.services.recording import (
    MAX_ITEMS,
    RawItem,
    usage_check_many,
    usage_record,
    usage_record_many,
    usage_require_recorder,
)
from usage.services.rows import (
    DUPLICATE,
    FIELDS,
    FUTURE_MONTH,
    JSON,
    MAX_ID,
    MAX_USAGE,
    NOT_A_NUMBER,
    NOT_AN_OBJECT,
    OUT_OF_RANGE,
    REQUIRED,
    TEXT,
    UNKNOWN_CUSTOMER,
    UNKNOWN_FIELD,
    UsageRow,
    UsageRowError,
    UsageRowsError,
    usage_row_parse,
)
from usage.services.uploads import (
    MAX_FILE_ROWS,
    PREVIEW_TTL,
    UsageConfirmation,
    UsagePreview,
    usage_lines_check,
    usage_upload_confirm,
    usage_upload_preview,
)

__all__ = [
    "DUPLICATE",
    "FIELDS",
    "FUTURE_MONTH",
    "JSON",
    "MAX_FILE_ROWS",
    "MAX_ID",
    "MAX_ITEMS",
    "MAX_USAGE",
    "NOT_AN_OBJECT",
    "NOT_A_NUMBER",
    "OUT_OF_RANGE",
    "PREVIEW_TTL",
    "REQUIRED",
    "TEXT",
    "UNKNOWN_CUSTOMER",
    "UNKNOWN_FIELD",
    "RawItem",
    "StagedRow",
    "UsageBatch",
    "UsageChange",
    "UsageConfirmation",
    "UsagePreview",
    "UsageResult",
    "UsageRow",
    "UsageRowError",
    "UsageRowsError",
    "usage_check_many",
    "usage_lines_check",
    "usage_record",
    "usage_record_many",
    "usage_require_recorder",
    "usage_row_parse",
    "usage_upload_confirm",
    "usage_upload_preview",
]
