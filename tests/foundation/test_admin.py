import pytest
from django.urls import reverse

from accounts.models import Role
from tests.factories import UserFactory, make_bill


@pytest.fixture
def staff_client(client, db):
    admin = UserFactory(name="root", role=Role.FINANCE, is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:accounts_user_changelist",
        "admin:accounts_user_add",
        "admin:customers_customer_changelist",
        "admin:customers_customer_add",
        "admin:usage_usage_changelist",
        "admin:bills_bill_changelist",
        "admin:bills_billaction_changelist",
    ],
)
def test_staff_can_open_the_admin_pages(staff_client, url_name):
    assert staff_client.get(reverse(url_name)).status_code == 200


def test_customer_admin_searches_by_name_and_filters(staff_client, customer):
    url = reverse("admin:customers_customer_changelist")
    response = staff_client.get(url, {"q": "Acme"})
    assert b"Acme Corp" in response.content
    response = staff_client.get(url, {"q": "Nothing like it"})
    assert b"Acme Corp" not in response.content
    assert staff_client.get(url, {"require_csm_approval__exact": "1"}).status_code == 200


def test_bills_and_history_are_read_only_in_the_admin(staff_client, customer, finance):
    bill = make_bill(customer=customer, finance=finance)
    action = bill.actions.get()
    change = staff_client.get(reverse("admin:bills_bill_change", args=[bill.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert staff_client.get(reverse("admin:bills_bill_add")).status_code == 403
    assert staff_client.post(reverse("admin:bills_bill_delete", args=[bill.pk])).status_code == 403
    assert (
        staff_client.post(
            reverse("admin:bills_billaction_change", args=[action.pk]), {"comment": "x"}
        ).status_code
        == 403
    )


def test_staff_can_create_a_user_with_a_role(staff_client):
    from accounts.models import User

    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "name": "newbie",
            "email": "n@example.com",
            "role": Role.SALES,
            "password1": "A-long-enough-pass-42",
            "password2": "A-long-enough-pass-42",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    user = User.objects.get(name="newbie")
    assert user.role == Role.SALES
    assert user.password.startswith("bcrypt_sha256$")


def test_non_staff_cannot_use_the_admin(client, finance):
    client.force_login(finance)
    response = client.get(reverse("admin:customers_customer_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
