"""How a month end's result reads on the dashboard: how many customers were skipped for each
reason and which (bills.services.creation.GenerationResult.skipped_customers), capped for
display with "and N more"."""

from __future__ import annotations

from billing_site.core import periods

# Names shown per reason: in the generate panel (each a link) and in the flash message.
PANEL_NAMES = 20
FLASH_NAMES = 5


def skipped_shown(result, *, limit: int = PANEL_NAMES) -> list[dict]:
    """Each reason the generation skipped customers for, largest first (then by reason), as
    {"reason", "count", "customers": the first `limit` [SkippedCustomer(id, name)] by name,
    "more": how many of the count are not named}."""
    shown = []
    for reason, count in sorted(
        result.skipped_reasons.items(), key=lambda item: (-item[1], item[0])
    ):
        customers = list(result.skipped_customers.get(reason, []))[:limit]
        shown.append(
            {
                "reason": reason,
                "count": count,
                "customers": customers,
                "more": count - len(customers),
            }
        )
    return shown


def generation_summary(result, period: dict) -> str:
    """The flash message of a generation run without htmx, e.g. "March 2025: created 2 bills,
    skipped 3 (2 no overage: Initech, Umbrella; 1 already billed: Acme Corp)." Names up to
    FLASH_NAMES per reason, then "and N more"."""
    label = periods.label(period["year"], period["month"])
    text = f"{label}: created {result.created} bill{'s' if result.created != 1 else ''}"
    if result.skipped:
        parts = []
        for item in skipped_shown(result, limit=FLASH_NAMES):
            names = ", ".join(c.name for c in item["customers"])
            if item["more"]:
                names += f" and {item['more']:,} more"
            parts.append(f"{item['count']:,} {item['reason']}" + (f": {names}" if names else ""))
        text += f", skipped {result.skipped:,} ({'; '.join(parts)})"
    return text + "."
