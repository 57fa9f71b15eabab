"""The customer admin: search and filters."""

from django.urls import reverse


def test_customer_admin_searches_by_name_and_filters(staff_client, customer):
    url = reverse("admin:customers_customer_changelist")
    response = staff_client.get(url, {"q": "Acme"})
    assert b"Acme Corp" in response.content
    response = staff_client.get(url, {"q": "Nothing like it"})
    assert b"Acme Corp" not in response.content
    assert staff_client.get(url, {"require_csm_approval__exact": "1"}).status_code == 200
