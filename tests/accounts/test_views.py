"""/welcome: the log in and sign up forms, the redirect to the page first asked for; /logout:
a POST that ends every session of the user."""

import json

import pytest
from django.test import Client

from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_it_shows_both_forms_with_labelled_fields(client):
    response = client.get("/welcome")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-labelledby="login-title"' in html and 'id="login-title">Log in<' in html
    assert 'aria-labelledby="signup-title"' in html and 'id="signup-title">Sign up<' in html
    for field in ("login-name", "login-password", "signup-name", "signup-email", "signup-role"):
        assert f'<label for="id_{field}">' in html
    assert '<label for="id_signup-password">Password</label>' in html
    assert ">Log in</button>" in html and ">Sign up</button>" in html


@pytest.mark.parametrize("path", ["/dashboard", "/customers", "/bills/1", "/customers/1"])
def test_it_sends_anonymous_visitors_to_welcome_with_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/welcome?next={path.replace('/', '%2F')}"


def test_root_redirects_to_dashboard(page_as, finance, client):
    assert client.get("/")["Location"] == "/welcome"
    response = page_as(finance).get("/")
    assert response.status_code == 302 and response["Location"] == "/dashboard"


def test_htmx_request_of_anonymous_visitor_gets_a_message_with_a_link_back(client):
    response = client.post(
        "/bills/7/approve",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/dashboard?status=draft&page=2",
    )
    assert response.status_code == 401
    assert response["HX-Reswap"] == "none"
    assert json.loads(response["HX-Trigger"]) == {
        "showFailure": {
            "kind": "login",
            "message": "Your session has ended (you logged out, perhaps in another tab). "
            "Log in again to continue.",
            "login": "/welcome?next=%2Fdashboard%3Fstatus%3Ddraft%26page%3D2",
        }
    }
    assert b"<html" not in response.content


def test_the_link_back_never_leads_to_another_site(client):
    response = client.get(
        "/dashboard", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://evil.example/dashboard"
    )
    login = json.loads(response["HX-Trigger"])["showFailure"]["login"]
    assert login == "/welcome?next=%2Fdashboard"


def test_it_logs_in_and_goes_to_the_page_first_asked_for(client, finance, password):
    response = client.post(
        "/welcome",
        {
            "intent": "login",
            "login-name": "fiona",
            "login-password": password,
            "next": "/customers",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/customers"
    assert client.get("/customers").status_code == 200


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example/", "//evil.example", "javascript:alert(1)"]
)
def test_it_ignores_a_next_that_leaves_the_site(client, finance, password, unsafe):
    data = {"intent": "login", "login-name": "fiona", "login-password": password, "next": unsafe}
    response = client.post("/welcome", data)
    assert response["Location"] == "/dashboard"


def test_wrong_password_shows_one_inline_message(client, finance):
    data = {"intent": "login", "login-name": "fiona", "login-password": "nope-nope-nope"}
    response = client.post("/welcome", data)
    assert response.status_code == 200
    assert "Wrong name or password." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_missing_login_fields_are_flagged_inline(client):
    response = client.post("/welcome", {"intent": "login"})
    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") == 2


def test_it_signs_up_logs_in_and_redirects(client):
    data = {
        "intent": "signup",
        "signup-name": "nora",
        "signup-email": "nora@example.com",
        "signup-role": Role.SALES,
        "signup-password": "a long enough passphrase",
        "next": "/customers",
    }
    response = client.post("/welcome", data)
    assert response.status_code == 302 and response["Location"] == "/customers"
    user = User.objects.get(name="nora")
    assert user.role == Role.SALES and user.check_password("a long enough passphrase")
    page = client.get("/customers").content.decode()
    assert "nora" in page and "Sales" in page


def test_signup_errors_are_shown_next_to_their_fields(client, finance):
    data = {
        "intent": "signup",
        "signup-name": "FIONA",
        "signup-email": "not-an-email",
        "signup-role": "Boss",
        "signup-password": "123",
    }
    response = client.post("/welcome", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert "Select a valid choice." in html
    assert not User.objects.filter(name="FIONA").exists()


def test_signup_service_errors_land_on_the_fields(client, finance):
    data = {
        "intent": "signup",
        "signup-name": "FIONA",
        "signup-email": "f@example.com",
        "signup-role": Role.FINANCE,
        "signup-password": "123",
    }
    html = client.post("/welcome", data).content.decode()
    assert "That name reads the same as the existing user “fiona”" in html
    assert "This password is too short." in html


def test_signup_can_be_turned_off(client, settings):
    settings.ALLOW_SIGNUP = False
    assert "Sign-up is turned off here" in client.get("/welcome").content.decode()
    data = {
        "intent": "signup",
        "signup-name": "nora",
        "signup-email": "nora@example.com",
        "signup-role": Role.SALES,
        "signup-password": "a long enough passphrase",
    }
    response = client.post("/welcome", data)
    assert response.status_code == 403
    assert not User.objects.filter(name="nora").exists()


def test_signup_turned_off_is_a_403_even_for_a_form_with_errors(client, settings):
    settings.ALLOW_SIGNUP = False
    response = client.post("/welcome", {"intent": "signup", "signup-name": ""})
    assert response.status_code == 403
    assert not User.objects.exists()


def test_a_signed_in_visitor_goes_on_to_next(page_as, sales):
    response = page_as(sales).get("/welcome?next=/customers")
    assert response["Location"] == "/customers"


def test_login_needs_the_csrf_token(finance, password):
    client = Client(enforce_csrf_checks=True)
    data = {"intent": "login", "login-name": "fiona", "login-password": password}
    response = client.post("/welcome", data)
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_welcome_refuses_other_methods(client):
    assert client.put("/welcome").status_code == 405


def test_login_attempts_are_limited_per_name(client, finance, password, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "login_name": "2/min"},
    }
    data = {"intent": "login", "login-name": "Fiona", "login-password": "guess"}
    assert client.post("/welcome", data).status_code == 200
    assert client.post("/welcome", data).status_code == 200
    response = client.post("/welcome", {**data, "login-password": password})
    assert response.status_code == 429
    assert "Too many attempts. Try again in" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_ups_are_limited_per_address(client, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "signup_address": "1/hour"},
    }
    data = {"intent": "signup", "signup-name": "x", "signup-email": "bad"}
    assert client.post("/welcome", data).status_code == 200
    response = client.post("/welcome", data)
    assert response.status_code == 429
    assert "Too many attempts." in response.content.decode()


# --- log out ----------------------------------------------------------------------------------


def test_it_logs_out_everywhere(page_as, sales):
    here, elsewhere = page_as(sales), page_as(sales)
    token = sales.session_token
    response = here.post("/logout")
    assert response.status_code == 302 and response["Location"] == "/welcome"
    sales.refresh_from_db()
    assert sales.session_token != token
    assert here.get("/dashboard").status_code == 302
    assert elsewhere.get("/dashboard").status_code == 302


def test_it_tells_the_person_they_are_logged_out(page_as, sales):
    response = page_as(sales).post("/logout", follow=True)
    assert "You are logged out everywhere." in response.content.decode()


def test_logout_needs_a_post(page_as, sales):
    assert page_as(sales).get("/logout").status_code == 405


def test_logout_needs_the_csrf_token(sales):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sales)
    assert client.post("/logout").status_code == 403
    assert client.get("/dashboard?awaiting=").status_code == 200


@pytest.mark.parametrize("role", ["finance", "sales", "csm", "other_csm"])
def test_every_page_has_a_log_out_button_with_csrf(page_as, users, role, bill):
    client = page_as(users[role])
    pages = (
        "/dashboard?awaiting=",
        "/customers",
        f"/bills/{bill.pk}",
        f"/customers/{bill.customer_id}",
    )
    for path in pages:
        html = client.get(path).content.decode()
        assert 'action="/logout"' in html and ">Log out</button>" in html
        assert "csrfmiddlewaretoken" in html
        assert 'hx-headers=\'{"x-csrftoken": "' in html
        assert users[role].name in html and users[role].role in html
