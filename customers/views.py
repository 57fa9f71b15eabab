"""Customer pages: the searchable list and one customer's usage and bills."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bills.models import Status
from customers.charts import NARROW, WIDE, customer_usage_months, usage_chart
from customers.forms import CustomerSearchForm
from customers.selectors import customer_detail_queryset, customer_list

PER_PAGE = 25


@require_GET
def customer_index(request):
    form = CustomerSearchForm(request.GET)
    search = form.search()
    page = Paginator(customer_list(search=search), PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "search": search, "page": page}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "customers/index.html#customer_results", context)
    return render(request, "customers/index.html", context)


@require_GET
def customer_detail(request, pk: int):
    customer = customer_detail_queryset().filter(pk=pk).first()
    if customer is None:
        raise Http404(f"Customer #{pk} does not exist.")
    bills = list(customer.bills.all())
    live_bills = {(b.year, b.month): b for b in bills if b.status != Status.VOID}
    months = customer_usage_months(customer)
    rows = [(m, live_bills.get((m.year, m.month))) for m in reversed(months)]
    context = {
        "customer": customer,
        "chart": usage_chart(months, WIDE),
        "chart_narrow": usage_chart(months, NARROW),
        "rows": rows,
        "bills": bills,
    }
    return render(request, "customers/detail.html", context)
