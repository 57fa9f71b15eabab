"""Django's password validators guard every door that sets a password (sign-up page and API,
the admin's add and reset forms), and a password accepted there always works at login."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User

LONGEST = "x7" * 2048  # 4096 characters: the most sign-up accepts and login reads

# password for the user "mariana" <mariana.lopez@example.com> -> the refusals, [] for accepted
PASSWORDS = [
    ("a long enough passphrase", []),
    (LONGEST, []),
    ("Qx7!vb", ["This password is too short. It must contain at least 8 characters."]),
    ("password", ["This password is too common."]),
    ("84016392751", ["This password is entirely numeric."]),
    ("Mariana-2026", ["The password is too similar to the name."]),
    ("lopez2026", ["The password is too similar to the email."]),
    (LONGEST + "y", ["This password is too long. It must contain at most 4096 characters."]),
]


@pytest.mark.parametrize(("password", "refusals"), PASSWORDS)
def test_sign_up_applies_the_password_validators(db, anon, password, refusals):
    body = {
        "name": "mariana",
        "email": "mariana.lopez@example.com",
        "role": "Sales",
        "password": password,
    }
    response = anon.post("/api/users", body)
    if refusals:
        assert (response.status_code, response.json()) == (400, {"password": refusals})
        assert not User.objects.exists()
    else:
        assert response.status_code == 201, response.content


@pytest.mark.parametrize("password", ["a long enough passphrase", LONGEST])
def test_a_password_accepted_at_sign_up_logs_in_on_the_page_and_the_api(db, password):
    signup = {"name": "mariana", "email": "m@example.com", "role": "Sales", "password": password}
    assert Client().post("/api/users", signup, content_type="application/json").status_code == 201
    api = Client().post(
        "/api/session", {"name": "mariana", "password": password}, content_type="application/json"
    )
    assert api.status_code == 200
    page = Client().post(
        "/welcome", {"intent": "login", "login-name": "mariana", "login-password": password}
    )
    assert (page.status_code, page["Location"]) == (302, "/dashboard")


@pytest.mark.parametrize(("password", "refusals"), PASSWORDS[3:6])
def test_the_admin_reset_applies_the_password_validators(staff_client, password, refusals):
    user = User.objects.create_user(
        name="mariana", email="mariana.lopez@example.com", role=Role.SALES, password="x"
    )
    response = staff_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": password, "password2": password},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["password2"] == refusals


@pytest.mark.parametrize(("password", "refusals"), [PASSWORDS[1], PASSWORDS[6]])
def test_the_admin_add_form_applies_the_password_validators(staff_client, password, refusals):
    response = staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "name": "mariana",
            "email": "mariana.lopez@example.com",
            "role": Role.SALES,
            "password1": password,
            "password2": password,
            "usable_password": "true",
        },
    )
    if refusals:
        assert response.context["adminform"].form.errors["password2"] == refusals
    else:
        assert response.status_code == 302
