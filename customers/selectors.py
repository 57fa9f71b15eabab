"""Reads of customers, with their CSM joined so lists run a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.db.models.functions import Upper

from customers.models import TERMS_FIELDS, Customer, CustomerTerms


@dataclass(frozen=True)
class Terms:
    """The terms a month is billed with; `id` is the CustomerTerms version (None: the customer's
    own columns, for a customer without versions)."""

    id: int | None
    monthly_api_limit: int
    overage_unit_cost: Decimal
    require_csm_approval: bool

    @classmethod
    def of(cls, customer: Customer) -> Terms:
        return cls(id=None, **{name: getattr(customer, name) for name in TERMS_FIELDS})


def customer_list() -> QuerySet[Customer]:
    """Every customer by name (then id), its CSM joined. Which customers a list shows is
    customers.filters.CustomerFilterSet's."""
    return Customer.objects.select_related("csm").order_by("name", "id")


def customer_get(pk: int) -> Customer | None:
    """One customer with its CSM joined, or None."""
    return Customer.objects.select_related("csm").filter(pk=pk).first()


def customer_terms_list(*, customer_id: int) -> list[CustomerTerms]:
    """The customer's terms versions, newest first (empty: its own columns apply to every
    month)."""
    return list(
        CustomerTerms.objects.filter(customer_id=customer_id)
        .select_related("created_by")
        .order_by("-effective_year", "-effective_month")
    )


def customer_terms_for(*, customer: Customer, year: int, month: int) -> Terms:
    """The terms in force for the customer in (year, month): the latest version from that month
    or before; before the first version, the first; without versions, the customer's own
    columns. One query."""
    return customer_terms_of_month(year=year, month=month, customer_ids=[customer.pk]).get(
        customer.pk, Terms.of(customer)
    )


def customer_terms_of_month(
    *, year: int, month: int, customer_ids: Iterable[int] | None = None
) -> dict[int, Terms]:
    """{customer id: the terms in force in (year, month)} for every customer that has terms
    versions (or those of `customer_ids`); customers without versions are not in it (their own
    columns apply). One query however many customers; the versions are few per customer."""
    versions = CustomerTerms.objects.order_by("customer_id", "effective_year", "effective_month")
    if customer_ids is not None:
        versions = versions.filter(customer_id__in=list(customer_ids))
    in_force: dict[int, Terms] = {}
    for version in versions.values(
        "id", "customer_id", "effective_year", "effective_month", *TERMS_FIELDS
    ):
        key = version["customer_id"]
        starts = (version["effective_year"], version["effective_month"])
        # The first version also covers the months before it; later ones replace it from theirs.
        if key not in in_force or starts <= (year, month):
            in_force[key] = Terms(
                id=version["id"], **{name: version[name] for name in TERMS_FIELDS}
            )
    return in_force


def customer_suggestions(text: str, *, limit: int = 20) -> list[Customer]:
    """Up to `limit` customers for a customer field's suggestions: those whose name holds
    `text` (any case), by name in any case (then id), the customer whose number `text` is
    (digits, with or without "#") first; for a blank text, the first customers by name. Two
    queries at most.

    The matches are found through the names' trigram index (customers migration 0007) and
    sorted: ordered by the name column itself, PostgreSQL would walk the name index instead
    and read every customer when few or none match (54 ms for none at 100,000 customers)."""
    text = text.strip()
    numbered: list[Customer] = []
    number = text.removeprefix("#").strip()
    if number.isdigit() and len(number) <= 18:
        numbered = list(Customer.objects.only("id", "name").filter(pk=int(number)))
    named = Customer.objects.only("id", "name").order_by("name", "id")
    if text:
        named = named.filter(name__icontains=text).order_by(Upper("name"), "name", "id")
    found = numbered + [c for c in named[:limit] if not numbered or c.pk != numbered[0].pk]
    return found[:limit]


def customer_by_name(name: str) -> tuple[list[Customer], str | None]:
    """(the customers named exactly `name`, by id; when there are none, the name of one whose
    name differs only in case, as a hint, else None). Exact as a usage file's `customer`
    column is (usage.csv_reader.CustomerNames, which holds every name in memory to read a file
    without a query per line): case and inner spaces count. One query."""
    same_letters = list(
        Customer.objects.only("id", "name").filter(name__iexact=name).order_by("id")[:50]
    )
    exact = [c for c in same_letters if c.name == name]
    return exact, (None if exact or not same_letters else same_letters[0].name)
