"""The admin's own doors: its login counts in the shared attempt budget, and it never shows a
user's bearer token."""

import pytest
from django.test import Client

from accounts.models import Role
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def rates(settings):
    def set_rates(**scopes):
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**current, **scopes},
        }

    return set_rates


@pytest.fixture
def staff(db):
    return UserFactory(name="root", role=Role.FINANCE, is_staff=True, is_superuser=True)


def _admin_login(client, password):
    return client.post("/admin/login/", {"username": "root", "password": password})


def test_admin_login_is_throttled_per_name_like_the_other_doors(staff, rates):
    rates(login_name="2/min", login_address="100/min")
    client = Client()
    assert _admin_login(client, "guess-1").status_code == 200
    assert _admin_login(client, "guess-2").status_code == 200
    response = _admin_login(client, PASSWORD)  # right, but over the budget
    assert response.status_code == 200
    assert "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_guesses_use_up_the_api_budget(staff, rates):
    rates(login_name="2/min", login_address="100/min")
    _admin_login(Client(), "guess-1")
    _admin_login(Client(), "guess-2")
    response = Client().post(
        "/api/session", {"name": "root", "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 429


def test_admin_login_still_works_within_the_budget(staff):
    client = Client()
    response = _admin_login(client, PASSWORD)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_user_admin_never_shows_the_bearer_token(staff, finance):
    client = Client()
    client.force_login(staff)
    for user in (staff, finance):
        html = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
        assert user.session_token not in html
    assert finance.session_token not in client.get("/admin/accounts/user/").content.decode()


def test_the_user_admin_cannot_set_the_bearer_token(staff, finance):
    client = Client()
    client.force_login(staff)
    page = client.get(f"/admin/accounts/user/{finance.pk}/change/")
    form = page.context["adminform"].form
    assert "session_token" not in form.fields


def test_a_password_reset_in_the_admin_ends_the_users_bearer_token(staff, finance):
    old_token = finance.session_token
    client = Client()
    client.force_login(staff)
    response = client.post(
        f"/admin/accounts/user/{finance.pk}/password/",
        {"password1": "a brand new passphrase", "password2": "a brand new passphrase"},
    )
    assert response.status_code == 302, response.content
    finance.refresh_from_db()
    assert finance.session_token != old_token
    api = Client(HTTP_AUTHORIZATION=f"Bearer {old_token}")
    assert api.get("/api/session").status_code == 401
    assert client.get("/admin/").status_code == 200  # the staff user's own session goes on
