"""The /bills/unbilled page: customer-months over the limit with no live bill, and why
(bills.unbilled). Every signed-in user reads it; Finance also sees what would bill each month:
"Generate <month>" (bills:generate) or "Re-bill" (bills:rebill), the services deciding.

One view serves the page, its table (htmx, target "unbilled-index") and the count the
dashboard's "Unbilled overage (N)" link loads (htmx, target "unbilled-count").
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing_site.core.filters import filter_for_page
from bills.filter_chips import chip_label, chip_removed
from bills.unbilled import UnbilledFilterSet, unbilled_overage_list, unbilled_rows

PER_PAGE = 50
CHIP_FIELDS = ("customer_id", "year", "month")


@require_GET
def unbilled(request):
    usages = unbilled_overage_list()
    if request.htmx and request.htmx.target == "unbilled-count":
        context = {"unbilled_count": usages.count()}
        return render(request, "bills/partials/unbilled_count.html", context)
    filterset, usages = filter_for_page(UnbilledFilterSet, request, usages)
    page = Paginator(usages, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = unbilled_rows(page.object_list)
    context = {
        "form": filterset.form,
        "filters": filterset.form.cleaned_data,
        "chips": _chips(filterset.form),
        "page": page,
        "back": request.get_full_path(),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "bills/unbilled.html#unbilled_index", context)
    return render(request, "bills/unbilled.html", context)


def _chips(form) -> list[dict[str, str]]:
    # The filters without a field of their own (from a link, e.g. a customer's page), shown so
    # the page never filters by something nobody can see.
    chips = []
    for name in CHIP_FIELDS:
        if form.data.get(name, "") == "":
            continue
        errors = form.errors.get(name)
        value = None if errors else form.cleaned_data.get(name)
        label = chip_label(name, value, raw=form.data.get(name), errors=errors)
        chips.append({"name": name, "label": label, "remove": chip_removed(form.data, name)})
    return chips
