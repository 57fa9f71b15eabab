"""The customer admin: search and filters."""

from django.urls import reverse


def test_customer_admin_searches_by_name_and_filters(staff_client, customer):
    url = reverse("admin:customers_customer_changelist")
    response = staff_client.get(url, {"q": "Acme"})
    assert b"Acme Corp" in response.content
    response = staff_client.get(url, {"q": "Nothing like it"})
    assert b"Acme Corp" not in response.content
    assert staff_client.get(url, {"require_csm_approval__exact": "1"}).status_code == 200


def test_staff_edit_the_billing_address_in_the_admin(staff_client, customer):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = staff_client.get(url).content.decode()
    assert 'name="billing_address"' in form
    data = {
        "name": customer.name,
        "billing_address": "12 Nguyễn Huệ\r\nQuận 1, TP. Hồ Chí Minh",
        "billing_email": customer.billing_email,
        "csm": customer.csm_id,
        "monthly_api_limit": customer.monthly_api_limit,
        "overage_unit_cost": customer.overage_unit_cost,
        "payment_terms_days": 30,
        "start_date": customer.start_date.isoformat(),
        "usage_records-TOTAL_FORMS": "0",
        "usage_records-INITIAL_FORMS": "0",
        "terms_versions-TOTAL_FORMS": "0",
        "terms_versions-INITIAL_FORMS": "0",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.billing_address == "12 Nguyễn Huệ\nQuận 1, TP. Hồ Chí Minh"
