"""Signing up, logging out and logging in, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_up_log_out_and_log_in_again(page, shot):
    page.goto("/customers")
    expect(page).to_have_url(re.compile(r"/welcome\?next=%2Fcustomers$"))
    shot("welcome")

    signup = page.get_by_role("form", name="Sign up")
    signup.get_by_label("Name").fill("nora")
    signup.get_by_label("Email").fill("nora@example.com")
    signup.get_by_label("Role").select_option("Sales")
    signup.get_by_label("Password").fill("123")
    signup.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("This password is too short.")).to_be_visible()
    shot("welcome-errors")

    signup = page.get_by_role("form", name="Sign up")
    signup.get_by_label("Password").fill("a long enough passphrase")
    signup.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(r"/customers$"))
    expect(page.locator(".whoami")).to_contain_text("nora")
    expect(page.locator(".whoami")).to_contain_text("Sales")
    assert User.objects.get(name="nora").role == "Sales"

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/welcome$"))
    expect(page.get_by_text("You are logged out everywhere.")).to_be_visible()

    page.goto("/dashboard")
    login = page.get_by_role("form", name="Log in")
    login.get_by_label("Name").fill("nora")
    login.get_by_label("Password").fill("wrong password")
    login.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Wrong name or password.")).to_be_visible()

    login = page.get_by_role("form", name="Log in")
    login.get_by_label("Name").fill("nora")
    login.get_by_label("Password").fill("a long enough passphrase")
    login.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard\?awaiting=me$"))  # Sales: the queue
    expect(page.get_by_role("heading", name="Overage bills")).to_be_visible()
