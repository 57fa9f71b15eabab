"""Log out: a POST that ends every session of the user."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_it_logs_out_everywhere(as_user, sales):
    here, elsewhere = as_user(sales), as_user(sales)
    token = sales.session_token
    response = here.post("/logout")
    assert response.status_code == 302 and response["Location"] == "/welcome"
    sales.refresh_from_db()
    assert sales.session_token != token
    assert here.get("/dashboard").status_code == 302
    assert elsewhere.get("/dashboard").status_code == 302


def test_it_tells_the_person_they_are_logged_out(as_user, sales):
    response = as_user(sales).post("/logout", follow=True)
    assert "You are logged out everywhere." in response.content.decode()


def test_logout_needs_a_post(as_user, sales):
    assert as_user(sales).get("/logout").status_code == 405


def test_logout_needs_the_csrf_token(sales):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales)
    assert client.post("/logout").status_code == 403
    assert client.get("/dashboard").status_code == 200


@pytest.mark.parametrize("role", ["finance", "sales", "csm", "other_csm"])
def test_every_page_has_a_log_out_button_with_csrf(as_user, users, role, bill):
    client = as_user(users[role])
    for path in ("/dashboard", "/customers", f"/bills/{bill.pk}", f"/customers/{bill.customer_id}"):
        html = client.get(path).content.decode()
        assert 'action="/logout"' in html and ">Log out</button>" in html
        assert "csrfmiddlewaretoken" in html
        assert 'hx-headers=\'{"x-csrftoken": "' in html
        assert users[role].name in html and users[role].role in html
