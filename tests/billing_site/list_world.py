"""The World of tests/billing_site/test_queries_per_request.py: the people, and rows of each
kind a list grows with, made set-based where the services allow it (bulk_create; the month end
and the bills' decisions by their own services)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from accounts.models import Role, User
from accounts.names import name_key
from billing_site.core import periods
from bills.models import Action, Bill, BillAction, Job, Payment, Status
from bills.services import bill_approve, bill_generate, bill_send, generation_start
from customers.models import Customer, CustomerTerms
from tests.factories import MONTH, YEAR, CustomerFactory, UserFactory, make_bill
from tests.tasks import tasks_run
from usage.models import Usage, UsageRevision, UsageSource


class World:
    """The people, and rows of each kind a list grows with, made set-based where the services
    allow (bulk_create; the month end by its own service). `grow(kind, n)` brings the kind to
    `n` rows; `fill(url)` names the objects a URL's placeholders stand for."""

    def __init__(self):
        self.users = {
            "finance": UserFactory(name="fiona", role=Role.FINANCE),
            "sales": UserFactory(name="sam", role=Role.SALES),
            "csm": UserFactory(name="casey", role=Role.CUSTOMER_SUCCESS),
            "staff": UserFactory(name="root", role=Role.SALES, is_staff=True, is_superuser=True),
        }
        self.made = 0  # customers made, for unique names
        self.rows: dict[str, int] = {}
        self.bill = self.customer = self.usage = None
        self.bill_ids: list[int] = []

    @property
    def finance(self):
        return self.users["finance"]

    def customers_new(self, n: int, **fields) -> list[Customer]:
        """`n` customers, every other one managed by the CSM, a fifth needing its approval."""
        start, self.made = self.made, self.made + n
        return Customer.objects.bulk_create(
            CustomerFactory.build(
                name=f"Customer {start + i:05d}",
                csm=self.users["csm"] if i % 2 else None,
                require_csm_approval=i % 5 == 0,
                **fields,
            )
            for i in range(n)
        )

    def grow(self, kind: str, n: int) -> None:
        more = n - self.rows.get(kind, 0)
        getattr(self, f"grow_{kind}")(more)
        self.rows[kind] = n

    def grow_customers(self, n: int) -> None:
        customers = self.customers_new(n)
        today = periods.today()
        Usage.objects.bulk_create(
            Usage(customer=c, year=today.year, month=today.month, api_usage=900_000 + i)
            for i, c in enumerate(customers)
            if i % 3
        )
        CustomerTerms.objects.bulk_create(
            CustomerTerms(
                customer=c,
                effective_year=YEAR,
                effective_month=MONTH,
                monthly_api_limit=2_000_000,
                overage_unit_cost=Decimal("0.001"),
                require_csm_approval=False,
                created_by=self.finance,
            )
            for c in customers[::4]
        )

    def grow_users(self, n: int) -> None:
        start = self.rows.get("users", 0)
        users = [
            UserFactory.build(name=f"person{start + i:05d}", role=Role.SALES) for i in range(n)
        ]
        for user in users:
            user.name_key = name_key(user.name)  # save() sets it; bulk_create does not
        User.objects.bulk_create(users)

    def grow_usage(self, n: int) -> None:
        Usage.objects.bulk_create(
            Usage(customer=c, year=YEAR, month=MONTH, api_usage=500_000 + i * 1_000)
            for i, c in enumerate(self.customers_new(n))
        )

    def grow_month(self, n: int) -> None:
        """Customers with 7 months of usage to YEAR-MONTH and this month so far: a quarter
        over the limit, a quarter near it, a tenth without the month, a seventh far from their
        history (suspicious)."""
        customers = self.customers_new(n, monthly_api_limit=1_000_000)
        today = periods.today()
        rows = []
        for i, c in enumerate(customers):
            level = (1_200_000, 900_000, 500_000, 300_000)[i % 4]
            period = (YEAR, MONTH)
            for back in range(7):
                if back or i % 10:
                    usage = level * 5 if back == 0 and i % 7 == 0 else level + back * 1_000
                    rows.append(Usage(customer=c, year=period[0], month=period[1], api_usage=usage))
                period = periods.previous_month(*period)
            rows.append(Usage(customer=c, year=today.year, month=today.month, api_usage=level))
        Usage.objects.bulk_create(rows)

    def grow_unbilled(self, n: int) -> None:
        """Customer-months over the limit that no bill covers."""
        Usage.objects.bulk_create(
            Usage(customer=c, year=YEAR, month=MONTH, api_usage=2_000_000 + i)
            for i, c in enumerate(self.customers_new(n))
        )

    def grow_bills(self, n: int) -> None:
        """Bills of YEAR-MONTH made by the month end; a tenth approved by Sales and, of those,
        half sent (an invoice each), so sent and approved rows grow with the rest."""
        self.grow_unbilled(n)
        made = bill_generate(year=YEAR, month=MONTH, user=self.finance).bill_ids
        decided = Bill.objects.filter(pk__in=made, requires_csm_approval=False)
        decided = list(decided.order_by("pk").values_list("pk", flat=True)[: max(1, n // 10)])
        for i, pk in enumerate(decided):
            bill_approve(bill=pk, user=self.users["sales"])
            if i % 2 == 0:
                bill_send(bill=pk, user=self.finance)
        self.bill_ids = list(Bill.objects.order_by("pk").values_list("pk", flat=True))

    def grow_generated(self, n: int) -> None:
        """Customers the next month end bills (every tenth skipped: its contract ended); the
        job of {job} is that month end, run."""
        self.grow_unbilled(n - n // 10)
        ended = date(YEAR, MONTH, 1) - timedelta(days=1)
        Usage.objects.bulk_create(
            Usage(customer=c, year=YEAR, month=MONTH, api_usage=2_000_000)
            for c in self.customers_new(n // 10, end_date=ended)
        )

    def grow_history(self, n: int) -> None:
        """One sent bill ({bill}) with `n` more payments and `n` more history rows."""
        if self.bill is None:
            customer = CustomerFactory(overage_unit_cost=Decimal("1"))
            self.bill = make_bill(customer=customer, finance=self.finance, year=YEAR, month=MONTH)
            bill_approve(bill=self.bill, user=self.users["sales"])
            bill_send(bill=self.bill, user=self.finance)
        today = periods.today()
        Payment.objects.bulk_create(
            Payment(
                bill=self.bill,
                received_on=today,
                amount=Decimal("0.01"),
                reference=f"TR-{i}",
                recorded_by=self.finance,
            )
            for i in range(n)
        )
        BillAction.objects.bulk_create(
            BillAction(
                bill=self.bill,
                stakeholder=self.users[("finance", "sales", "csm")[i % 3]],
                stakeholder_name="someone",
                stakeholder_role=Role.FINANCE,
                action=Action.PAYMENT_RECORDED,
                from_status=Status.SENT,
                to_status=Status.SENT,
            )
            for i in range(n)
        )

    def grow_customer_bills(self, n: int) -> None:
        """One customer ({customer}) with `n` more bills: one live bill a month back from
        YEAR-MONTH to 2000, void ones beyond."""
        if self.customer is None:
            self.customer = CustomerFactory(csm=self.users["csm"])
            make_bill(customer=self.customer, finance=self.finance)  # one with real history
        start = Bill.objects.filter(customer=self.customer).count()
        bills, period = [], (YEAR, MONTH)
        for _ in range(start):
            period = periods.previous_month(*period)
        for i in range(n):
            live = period[0] >= 2000
            bills.append(
                Bill(
                    customer=self.customer,
                    year=period[0] if live else 2000,
                    month=period[1] if live else 1,
                    api_usage=1_500_000,
                    monthly_api_limit=1_000_000,
                    overage_units=500_000,
                    overage_unit_cost=Decimal("0.0025"),
                    overage_amount=Decimal("1250.00"),
                    status=Status.DRAFT if live else Status.VOID,
                )
            )
            period = periods.previous_month(*period)
        Bill.objects.bulk_create(bills)

    def grow_revisions(self, n: int) -> None:
        """One usage row ({usage}) with `n` more revisions, by each user in turn."""
        if self.usage is None:
            self.usage = Usage.objects.create(
                customer=CustomerFactory(), year=YEAR, month=MONTH, api_usage=1
            )
        users = list(self.users.values())
        UsageRevision.objects.bulk_create(
            UsageRevision(
                usage=self.usage,
                old_value=i,
                new_value=i + 1,
                user=users[i % len(users)],
                source=UsageSource.API,
            )
            for i in range(n)
        )

    def fill(self, url: str) -> str:
        """`url` with {job} (a month end of every customer, run now), {bill}, {customer} and
        {usage} replaced by the ids of the objects whose rows grow."""
        if "{job}" in url:
            job = generation_start(year=YEAR, month=MONTH, user=self.finance)
            tasks_run()
            url = url.replace("{job}", str(Job.objects.get(pk=job.pk).pk))
        if "{bill}" in url:
            url = url.replace("{bill}", str(self.bill.pk))
        if "{customer}" in url:
            url = url.replace("{customer}", str(self.customer.pk))
        return url.replace("{usage}", str(self.usage.pk) if self.usage else "")
