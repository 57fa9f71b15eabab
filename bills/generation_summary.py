"""How a month end's result reads on the dashboard: how many customers were skipped for each
reason and which (bills.services.generation.GenerationResult.skipped_customers), capped for
display with "and N more"."""

from __future__ import annotations

# Names shown per reason in the generate panel (each a link); the rest are counted.
PANEL_NAMES = 20


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
