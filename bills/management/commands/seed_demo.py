"""A demo data set that makes the app worth opening. Idempotent: re-running adds nothing."""

import random
from datetime import date
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Role, User
from billing_site.core import periods
from bills.models import Bill
from customers.models import Customer
from usage.models import Usage

DEMO_USERS = [
    # name, role, email, staff
    ("fiona", Role.FINANCE, "fiona@billing.example", True),
    ("sam", Role.SALES, "sam@billing.example", False),
    ("casey", Role.CUSTOMER_SUCCESS, "casey@billing.example", False),
    ("cora", Role.CUSTOMER_SUCCESS, "cora@billing.example", False),
]
DEMO_PASSWORD_SUFFIX = "-demo-2026"

CUSTOMER_NAMES = [
    "Acme Analytics",
    "Blue Heron Logistics",
    "Cobalt Health",
    "Driftwood Media",
    "Ember Payments",
    "Fjord Travel",
    "Granite Insurance",
    "Harbor Retail",
    "Indigo Labs",
    "Juniper Energy",
    "Kestrel Security",
    "Lumen Education",
    "Meridian Foods",
    "Nimbus Weather",
    "Orchid Fashion",
    "Pioneer Freight",
    "Quartz Robotics",
    "Redwood Realty",
    "Summit Outdoor",
    "Tidal Games",
    "Umber Architecture",
    "Vertex Mobility",
    "Willow Pharmacy",
    "Xenon Telecom",
    "Yarrow Agritech",
]
# Where each customer's invoices go: several countries and scripts, as finance teams see them.
ADDRESSES = [
    "1200 Market Street, Suite 400\nSan Francisco, CA 94102\nUnited States",
    "Hafenstraße 12\n20457 Hamburg\nGermany",
    "12 Nguyễn Huệ, Phường Bến Nghé\nQuận 1, TP. Hồ Chí Minh\nViệt Nam",
    "ул. Тверская, д. 7, офис 12\nМосква 125009\nРоссия",
    "Λεωφόρος Βασιλίσσης Σοφίας 45\n106 76 Αθήνα\nΕλλάδα",
    "上海市浦东新区世纪大道100号\n环球金融中心 38楼\n中国 200120",
    "東京都千代田区丸の内1-9-2\nグラントウキョウサウスタワー 12階\n〒100-6612 日本",
    "برج المملكة، طريق الملك فهد\nالرياض 12214\nالمملكة العربية السعودية",
    "Rua Augusta 1508, conjunto 42\nSão Paulo – SP, 01304-001\nBrasil",
    "Keizersgracht 555\n1017 DR Amsterdam\nNetherlands",
]
LIMITS = [100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 20_000_000, 50_000_000]
UNIT_COSTS = ["0.0005", "0.00075", "0.001", "0.0025", "0.004", "0.0125", "0.02", "0.0015"]


def _months_back(n: int) -> list[tuple[int, int]]:
    """The last n months up to and including the current one, oldest first."""
    today = periods.today()
    y, m = today.year, today.month
    out = [(y, m)]
    for _ in range(n - 1):
        y, m = periods.previous_month(y, m)
        out.append((y, m))
    return out[::-1]


class Command(BaseCommand):
    help = (
        "Load the demo data: one user per role plus a second CSM, ~25 customers and 12 months "
        "of usage, and a few bills in every status. Safe to run again: nothing is duplicated."
    )

    def handle(self, *args, **options):
        rng = random.Random(20261122)
        with transaction.atomic():
            users = self._users()
            customers = self._customers(rng, users)
            usage_added = self._usage(rng, customers)
        bills = self._bills(users)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(users)} users, {len(customers)} customers, "
                f"{usage_added} usage rows added, {bills} bills added."
            )
        )

    def _users(self) -> dict[str, User]:
        users = {}
        for name, role, email, staff in DEMO_USERS:
            user = User.objects.filter(name=name).first()
            if user is None:
                password = f"{name}{DEMO_PASSWORD_SUFFIX}"
                user = User.objects.create_user(
                    name=name,
                    email=email,
                    role=role,
                    password=password,
                    is_staff=staff,
                    is_superuser=staff,
                )
                self.stdout.write(f"  created {role} user {name!r} with password {password!r}")
            users[name] = user
        return users

    def _customers(self, rng: random.Random, users: dict[str, User]) -> list[Customer]:
        existing = {c.name: c for c in Customer.objects.filter(name__in=CUSTOMER_NAMES)}
        months = _months_back(12)
        first_year, first_month = months[0]
        new = []
        for i, name in enumerate(CUSTOMER_NAMES):
            if name in existing:
                continue
            start = date(first_year - rng.choice([0, 1, 2]), rng.randint(1, 12), 1)
            if i % 9 == 4:  # a few customers signed up during the year
                y, m = months[rng.randint(3, 8)]
                start = date(y, m, rng.randint(1, 28))
            end = None
            if i % 11 == 7:  # and one contract ended
                y, m = months[rng.randint(7, 9)]
                end = periods.last_day(y, m)
            slug = name.lower().replace(" ", "-")
            new.append(
                Customer(
                    name=name,
                    billing_address=ADDRESSES[i % len(ADDRESSES)],
                    billing_email=f"ap@{slug}.example",
                    csm=[users["casey"], users["cora"], None][i % 3],
                    monthly_api_limit=LIMITS[i % len(LIMITS)],
                    overage_unit_cost=Decimal(UNIT_COSTS[(i * 3) % len(UNIT_COSTS)]),
                    require_csm_approval=i % 4 == 0,
                    start_date=start,
                    end_date=end,
                )
            )
        Customer.objects.bulk_create(new)
        for i, name in enumerate(CUSTOMER_NAMES):  # customers seeded before addresses existed
            Customer.objects.filter(name=name, billing_address="").update(
                billing_address=ADDRESSES[i % len(ADDRESSES)]
            )
        return list(Customer.objects.filter(name__in=CUSTOMER_NAMES).order_by("name"))

    def _usage(self, rng: random.Random, customers: list[Customer]) -> int:
        months = _months_back(12)
        have = set(
            Usage.objects.filter(customer__in=customers).values_list("customer_id", "year", "month")
        )
        rows = []
        for customer in customers:
            # Start between 55% and 95% of the limit and grow 1-6% a month, with some noise.
            level = customer.monthly_api_limit * rng.uniform(0.55, 0.95)
            growth = rng.uniform(1.01, 1.06)
            for y, m in months:
                level *= growth
                if not periods.contract_covers(customer.start_date, customer.end_date, y, m):
                    continue
                if (customer.pk, y, m) in have:
                    continue
                noise = rng.uniform(0.9, 1.12)
                share = 1.0
                if (y, m) == months[-1]:  # the current month is only partly over
                    share = periods.today().day / periods.last_day(y, m).day
                rows.append(
                    Usage(
                        customer=customer,
                        year=y,
                        month=m,
                        api_usage=int(level * noise * share),
                    )
                )
        Usage.objects.bulk_create(rows)
        return len(rows)

    def _bills(self, users: dict[str, User]) -> int:
        """Bill the last two ended months once, and move a few bills through the workflow."""
        from bills.services import bill_approve, bill_generate, bill_reject

        if Bill.objects.exists():
            return 0
        finance, sales, casey = users["fiona"], users["sam"], users["casey"]
        y, m = periods.last_ended_month()
        py, pm = periods.previous_month(y, m)
        created = bill_generate(year=py, month=pm, user=finance).created
        created += bill_generate(year=y, month=m, user=finance).created
        older = list(Bill.objects.filter(year=py, month=pm).select_related("customer"))
        for bill in older[: max(1, len(older) - 2)]:
            bill_approve(bill=bill, user=sales, comment="Usage confirmed with the account team.")
            if bill.customer.require_csm_approval and bill.customer.csm_id in (None, casey.pk):
                bill_approve(bill=bill, user=casey)
        if len(older) >= 2:
            last = older[-1]
            if last.customer.csm_id in (None, casey.pk):
                bill_reject(
                    bill=last, user=casey, comment="Spike came from a load test we asked for."
                )
        return created
