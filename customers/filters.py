"""Which customers a list shows: one FilterSet for GET /api/customers, and its search for the
/customers page. The queryset comes from customers.selectors.customer_list."""

from __future__ import annotations

from billing_site.core.filters import ContainsFilter, FilterSet, IdFilter, YesNoFilter
from customers.forms import CustomerSearchForm
from customers.models import Customer


class CustomerFilterSet(FilterSet):
    search = ContainsFilter(field_name="name", description="Part of the name, any case.")
    csm_id = IdFilter(description="Customers this CSM (a user id) manages.")
    require_csm_approval = YesNoFilter(description="true or false.")

    class Meta:
        model = Customer
        fields = []  # the declared filters only


class CustomerPageFilterSet(CustomerFilterSet):
    """The /customers page's search box. Its parameter is `q` (links people keep, such as
    /customers?q=acme), the same name search as the API's `search`."""

    q = ContainsFilter(field_name="name", label="Search customers")
    search = None
    csm_id = None
    require_csm_approval = None

    class Meta(CustomerFilterSet.Meta):
        form = CustomerSearchForm
