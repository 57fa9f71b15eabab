from io import StringIO

from django.core.management import call_command

from accounts.models import Role, User
from bills.models import Bill, BillAction
from customers.models import Customer
from usage.models import Usage


def _counts():
    return (
        User.objects.count(),
        Customer.objects.count(),
        Usage.objects.count(),
        Bill.objects.count(),
        BillAction.objects.count(),
    )


def test_seed_demo_loads_a_realistic_data_set(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {Role.FINANCE, Role.SALES, Role.CUSTOMER_SUCCESS}
    assert User.objects.filter(role=Role.CUSTOMER_SUCCESS).count() == 2
    assert 20 <= Customer.objects.count() <= 30
    assert Customer.objects.filter(require_csm_approval=True).exists()
    assert Customer.objects.filter(end_date__isnull=False).exists()
    assert Customer.objects.filter(csm__isnull=True).exists()
    assert not Customer.objects.filter(billing_address="").exists(), "every customer has one"
    addresses = " ".join(Customer.objects.values_list("billing_address", flat=True))
    for text in ("Hồ Chí Minh", "Москва", "Αθήνα", "上海市", "東京都", "الرياض"):
        assert text in addresses, "the demo addresses cover many scripts"
    fractional = [c.overage_unit_cost for c in Customer.objects.all() if c.overage_unit_cost < 0.01]
    assert fractional, "some unit costs are fractions of a cent"
    assert Usage.objects.values("year", "month").distinct().count() == 12
    assert Bill.objects.exists()
    statuses = set(Bill.objects.values_list("status", flat=True))
    assert {"draft", "approved"} <= statuses
    assert "password 'fiona-demo-2026'" in out.getvalue()
    assert User.objects.get(name="fiona").check_password("fiona-demo-2026")


def test_seed_demo_is_idempotent(db):
    call_command("seed_demo", stdout=StringIO())
    first = _counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert _counts() == first
    assert "password" not in out.getvalue()  # printed once, on creation only
