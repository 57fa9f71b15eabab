"""The admin site: every app's pages open for staff."""

import pytest
from django.urls import reverse


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
        "admin:bills_invoice_changelist",
        "admin:bills_creditnote_changelist",
    ],
)
def test_staff_can_open_the_admin_pages(staff_client, url_name):
    assert staff_client.get(reverse(url_name)).status_code == 200
