"""Sign up, log in, the current user, log out everywhere; Bearer and session auth; CSRF;
throttling; and hostile input in names and headers (401/400, never 500)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import LOGIN_FAILED
from tests.factories import MONTH, YEAR

SIGNUP = {
    "name": "newbie",
    "email": "newbie@example.com",
    "role": "Sales",
    "password": "a long enough passphrase",
}


# --- sign up -------------------------------------------------------------------------------


def test_signup_creates_the_user_and_logs_them_in(db, anon):
    response = anon.post("/api/users", SIGNUP)
    assert response.status_code == 201, response.content
    user = User.objects.get(name="newbie")
    assert response.json() == {
        "id": user.pk,
        "name": "newbie",
        "email": "newbie@example.com",
        "role": "Sales",
    }
    assert user.check_password(SIGNUP["password"])
    me = anon.get("/api/session")  # the same client, by its session cookie
    assert me.status_code == 200
    assert me.json()["name"] == "newbie"


def test_signup_is_refused_when_turned_off(db, anon, settings):
    settings.ALLOW_SIGNUP = False
    response = anon.post("/api/users", SIGNUP)
    assert response.status_code == 403
    assert "turned off" in response.json()["detail"]
    assert not User.objects.filter(name="newbie").exists()


def test_signup_names_each_bad_field(db, anon):
    body = {"name": "", "email": "not-an-email", "role": "Boss", "password": "123"}
    response = anon.post("/api/users", body)
    assert response.status_code == 400
    assert set(response.json()) == {"name", "email", "role", "password"}
    assert User.objects.count() == 0


def test_signup_refuses_a_taken_name_in_any_case(finance, anon):
    response = anon.post("/api/users", {**SIGNUP, "name": finance.name.upper()})
    assert response.status_code == 400
    assert response.json() == {
        "name": ["That name reads the same as the existing user “fiona”; choose another."]
    }


def test_signup_refuses_unknown_fields(db, anon):
    response = anon.post("/api/users", {**SIGNUP, "is_staff": True})
    assert response.status_code == 400
    assert response.json() == {"is_staff": ["Unknown field."]}
    assert User.objects.count() == 0


@pytest.mark.parametrize("name", ["nul\x00name", "\ud800", 42, None, "x" * 100_000])
def test_signup_with_absurd_name_is_a_400(db, anon, name):
    # json.dumps escapes the lone surrogate (legal JSON text), as a hostile client would send it.
    body = json.dumps({**SIGNUP, "name": name})
    response = anon.post("/api/users", body, content_type="application/json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_get_user_by_id(finance, sales, api_as):
    response = api_as(finance).get(f"/api/users/{sales.pk}")
    assert response.status_code == 200
    assert response.json() == {"id": sales.pk, "name": "sam", "email": sales.email, "role": "Sales"}


def test_unknown_user_is_a_404(finance, api_as):
    response = api_as(finance).get("/api/users/999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "User #999999 does not exist."}


# --- log in --------------------------------------------------------------------------------


def test_login_returns_the_user_and_a_token_and_logs_into_a_session(finance, password):
    client = APIClient()
    response = client.post("/api/session", {"name": "fiona", "password": password})
    assert response.status_code == 200, response.content
    finance.refresh_from_db()
    assert response.json() == {
        "user": {"id": finance.pk, "name": "fiona", "email": finance.email, "role": "Finance"},
        "token": finance.session_token,
    }
    assert client.get("/api/session").json()["name"] == "fiona"  # session cookie
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    assert token_client.get("/api/session").json()["name"] == "fiona"  # bearer token


def test_wrong_password_and_unknown_name_get_the_same_401(finance, anon):
    wrong_password = anon.post("/api/session", {"name": "fiona", "password": "nope nope"})
    unknown_name = anon.post("/api/session", {"name": "nobody", "password": "nope nope"})
    assert wrong_password.status_code == unknown_name.status_code == 401
    assert wrong_password.json() == unknown_name.json() == {"detail": LOGIN_FAILED}
    assert wrong_password.headers["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "name",
    ["fiona\x00", "\x00", "x" * 1_000_000, "", "   "],
    ids=["nul-suffix", "nul", "a-megabyte", "empty", "blank"],
)
def test_absurd_login_name_is_the_same_401(finance, anon, name):
    response = anon.post("/api/session", {"name": name, "password": "whatever it is"})
    assert response.status_code == 401
    assert response.json() == {"detail": LOGIN_FAILED}


@pytest.mark.parametrize("body", [{"name": 1, "password": "x"}, {"name": "fiona"}, [], "fiona"])
def test_malformed_login_body_is_a_400(db, anon, body):
    response = anon.post("/api/session", body)
    assert response.status_code == 400


def test_login_refuses_unknown_fields(db, anon):
    response = anon.post("/api/session", {"name": "a", "password": "b", "remember": True})
    assert response.status_code == 400
    assert response.json() == {"remember": ["Unknown field."]}


def test_current_user_needs_a_login(db, anon):
    response = anon.get("/api/session")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


# --- bearer tokens -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer \x00",
        "Bearer abc\x00def-ghijklmnopqrstuvwxyz",
        "Bearer " + "a" * 100_000,
        "Bearer two words",
        "Bearer ünïcödé-tökén-ünïcödé-tökén-ünïcödé",
        "Bearer " + "A" * 43,  # the right shape, but nobody's token
    ],
    ids=["no-token", "blank", "nul", "nul-inside", "huge", "two-words", "unicode", "unknown"],
)
def test_bad_bearer_token_is_a_401(finance, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/bills")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_bearer_scheme_is_case_insensitive(finance):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {finance.session_token}")
    assert client.get("/api/session").status_code == 200


def test_other_authorization_schemes_are_not_logins(finance):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic ZmlvbmE6cGFzc3dvcmQ=")
    assert client.get("/api/session").status_code == 401


def test_token_of_an_inactive_user_is_refused(finance, api_as):
    client = api_as(finance)
    User.objects.filter(pk=finance.pk).update(is_active=False)
    assert client.get("/api/session").status_code == 401


# --- log out -------------------------------------------------------------------------------


def test_logout_with_a_token_ends_the_token_and_every_session(finance, api_as):
    browser = Client()
    browser.force_login(finance)
    assert browser.get("/api/session").status_code == 200
    token_client = api_as(finance)
    other_token_client = api_as(finance)

    response = token_client.delete("/api/session")

    assert response.status_code == 204
    assert token_client.get("/api/session").status_code == 401
    assert other_token_client.get("/api/session").status_code == 401
    assert browser.get("/api/session").status_code == 401
    assert browser.get("/dashboard").status_code == 302  # the pages' session died too
    finance.refresh_from_db()
    assert api_as(finance).get("/api/session").status_code == 200  # the new token works


def test_logout_with_a_session_ends_the_bearer_token(finance, api_as):
    token_client = api_as(finance)
    browser = Client(enforce_csrf_checks=False)
    browser.force_login(finance)
    assert browser.delete("/api/session").status_code == 204
    assert token_client.get("/api/session").status_code == 401


def test_logout_needs_a_login(db, anon):
    assert anon.delete("/api/session").status_code == 401


# --- CSRF ----------------------------------------------------------------------------------


def test_session_post_without_csrf_token_is_refused(finance):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(finance)
    response = browser.post(
        "/api/bills/generate", {"year": YEAR, "month": MONTH}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_session_delete_without_csrf_token_does_not_log_out(finance):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(finance)
    assert browser.delete("/api/session").status_code == 403
    assert browser.get("/api/session").status_code == 200


def test_session_post_with_csrf_token_from_login_is_accepted(finance, password):
    browser = Client(enforce_csrf_checks=True)
    login = browser.post(
        "/api/session", {"name": "fiona", "password": password}, content_type="application/json"
    )
    assert login.status_code == 200
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    response = browser.post(
        "/api/bills/generate",
        {"year": YEAR, "month": MONTH},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 202, response.content


def test_bearer_request_needs_no_csrf_token(finance):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/bills/generate",
        {"year": YEAR, "month": MONTH},
        content_type="application/json",
        headers={"Authorization": f"Bearer {finance.session_token}"},
    )
    assert response.status_code == 202, response.content


# --- throttling ----------------------------------------------------------------------------
# A NUL in the password fails before any bcrypt work, so these stay fast.


def test_login_attempts_are_throttled_per_name(finance, anon, throttle_rates):
    throttle_rates(login_name="3/min", login_address="100/min")
    for _ in range(3):
        assert anon.post("/api/session", {"name": "fiona", "password": "\x00"}).status_code == 401
    response = anon.post("/api/session", {"name": "FIONA ", "password": "\x00"})
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.json()["detail"].startswith("Too many attempts. Try again in ")
    other = anon.post("/api/session", {"name": "sam", "password": "\x00"})
    assert other.status_code == 401  # another name from the same address still gets through


def test_login_attempts_are_throttled_per_address(db, throttle_rates):
    throttle_rates(login_name="100/min", login_address="3/min")
    here, elsewhere = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    for n in range(3):
        assert here.post("/api/session", {"name": f"u{n}", "password": "\x00"}).status_code == 401
    assert here.post("/api/session", {"name": "u9", "password": "\x00"}).status_code == 429
    assert elsewhere.post("/api/session", {"name": "u9", "password": "\x00"}).status_code == 401


def test_forwarded_for_header_does_not_escape_the_address_throttle(db, throttle_rates):
    throttle_rates(login_address="2/min")
    client = APIClient(REMOTE_ADDR="10.0.0.1")
    statuses = [
        client.post(
            "/api/session", {"name": "u", "password": "\x00"}, HTTP_X_FORWARDED_FOR=f"10.9.9.{n}"
        ).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_throttling_does_not_apply_to_reading_the_session(finance, api_as, throttle_rates):
    throttle_rates(login_address="1/min")
    client = api_as(finance)
    assert [client.get("/api/session").status_code for _ in range(3)] == [200, 200, 200]


def test_signup_is_throttled_per_address(db, throttle_rates):
    throttle_rates(signup_address="1/min")
    client = APIClient()
    assert client.post("/api/users", {**SIGNUP, "role": "Boss"}).status_code == 400
    assert client.post("/api/users", {**SIGNUP, "role": "Boss"}).status_code == 429
