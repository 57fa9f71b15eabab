"""The admin's own doors: its login counts in the shared attempt budget, and it never shows a
user's bearer token; staff create users with a role, and nobody else gets in."""

from django.test import Client
from django.urls import reverse

from accounts.models import Role
from tests.factories import PASSWORD


def _admin_login(client, password):
    return client.post("/admin/login/", {"username": "root", "password": password})


def test_admin_login_is_throttled_per_name_like_the_other_doors(staff, throttle_rates):
    throttle_rates(login_name="2/min", login_address="100/min")
    client = Client()
    assert _admin_login(client, "guess-1").status_code == 200
    assert _admin_login(client, "guess-2").status_code == 200
    response = _admin_login(client, PASSWORD)  # right, but over the budget
    assert response.status_code == 200
    assert "Too many attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_login_guesses_use_up_the_api_budget(staff, throttle_rates):
    throttle_rates(login_name="2/min", login_address="100/min")
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
