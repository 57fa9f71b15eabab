"""Customer pages: the searchable list and one customer's usage and bills."""

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing_site.core.filters import filter_for_page
from bills.selectors import bill_list_of_customer
from customers.filters import CustomerPageFilterSet
from customers.forms import CustomerField, customer_options
from customers.selectors import (
    customer_get,
    customer_list,
    customer_suggestions,
    customer_terms_list,
)
from usage.analysis import usage_customer_months, usage_level
from usage.charts import NARROW, WIDE, usage_chart
from usage.selectors import usage_months, with_current_usage

PER_PAGE = 25


@require_GET
def customer_index(request):
    filterset, customers = filter_for_page(CustomerPageFilterSet, request, customer_list())
    page = Paginator(with_current_usage(customers), PER_PAGE).get_page(request.GET.get("page"))
    for customer in page.object_list:  # one page of rows: over, at or near the limit, exactly
        customer.usage_level = usage_level(customer.current_usage, customer.monthly_api_limit)
    search = filterset.form.cleaned_data.get("q", "")
    context = {"form": filterset.form, "search": search, "page": page}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "customers/index.html#customer_results", context)
    return render(request, "customers/index.html", context)


@require_GET
def customer_detail(request, pk: int):
    customer = customer_get(pk)
    if customer is None:
        raise Http404(f"Customer #{pk} does not exist.")
    bills = bill_list_of_customer(customer.pk)
    live_bills = {(b.year, b.month): b for b in bills if b.is_live}
    months = usage_months(customer=customer)
    analysed = usage_customer_months(customer_id=customer.pk, months=months)
    drawn = {"projected": analysed.projected, "flags": analysed.flags}
    context = {
        "customer": customer,
        "chart": usage_chart(months, WIDE, **drawn),
        "chart_narrow": usage_chart(months, NARROW, **drawn),
        "rows": [(m, live_bills.get((m.year, m.month))) for m in reversed(months)],
        "bills": bills,
        "analysed": analysed,
        "terms": customer_terms_list(customer_id=customer.pk),
    }
    return render(request, "customers/detail.html", context)


@require_GET
def customer_suggest(request):
    """The <option>s of a customer field's <datalist> (customers.forms.CustomerInput): up to 20
    customers whose name holds the typed text, or whose number it is. The text is the `q`
    parameter, or the one named by `from` (the form field's own name, as htmx sends it). Any
    signed-in user: the /customers page lists the same names."""
    source = request.GET.get("from") or "q"
    text = request.GET.get(source, "")[: CustomerField.MAX_LENGTH]
    return HttpResponse(customer_options(customer_suggestions(text)))
