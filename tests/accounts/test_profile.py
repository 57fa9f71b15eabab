"""/profile: the user's name, email and role, and the digest email setting saved with a POST."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from bills.services import bill_generate
from tests.factories import MONTH, YEAR, CustomerFactory, UsageFactory, htmx

pytestmark = pytest.mark.django_db

LABEL = "Email me a digest when new bills wait for my approval"


def _box(html: str) -> str:
    return re.search(r'<input type="checkbox" name="notify_digest"[^>]*>', html).group(0)


def test_anonymous_visitors_are_sent_to_welcome(client):
    response = client.get("/profile")
    assert response.status_code == 302 and response["Location"] == "/welcome?next=%2Fprofile"
    assert client.post("/profile", {"notify_digest": "on"})["Location"] == "/welcome"


def test_it_shows_who_you_are_and_the_digest_setting_on_by_default(page_as, sales):
    response = page_as(sales).get("/profile")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<dt>Name</dt><dd>sam</dd>" in html
    assert "<dt>Email</dt><dd>sam@example.com</dd>" in html
    assert "<dt>Role</dt><dd>Sales</dd>" in html
    assert '<label class="check" for="id_notify_digest">' in html and LABEL in html
    assert "checked" in _box(html) and ">Save</button>" in html
    assert "you get no digest" not in html


def test_finance_is_told_no_bill_waits_on_its_role(page_as, finance):
    html = page_as(finance).get("/profile").content.decode()
    assert "not on your role (Finance): you get no digest" in html


def test_the_name_in_the_top_bar_links_the_profile(page_as, csm):
    html = page_as(csm).get("/customers").content.decode()
    assert '<a class="whoami-link" href="/profile">' in html
    here = page_as(csm).get("/profile").content.decode()
    assert '<a class="whoami-link" href="/profile" aria-current="page">' in here


def test_saving_turns_the_digest_off_and_on_with_a_message(page_as, csm):
    client = page_as(csm)
    response = client.post("/profile", {}, follow=True)
    assert response.redirect_chain == [("/profile", 302)]
    html = response.content.decode()
    assert "Saved: no digest emails." in html and "checked" not in _box(html)
    assert User.objects.get(pk=csm.pk).notify_digest is False
    response = client.post("/profile", {"notify_digest": "on"}, follow=True)
    assert "Saved: we email you a digest when new bills wait for your approval." in (
        response.content.decode()
    )
    assert User.objects.get(pk=csm.pk).notify_digest is True


def test_saving_needs_the_csrf_token(csm):
    client = Client(enforce_csrf_checks=True)
    client.force_login(csm)
    assert client.post("/profile", {}).status_code == 403
    assert User.objects.get(pk=csm.pk).notify_digest is True


def test_only_get_and_post(page_as, csm):
    assert page_as(csm).put("/profile").status_code == 405
    assert page_as(csm).get("/profile", **htmx()).status_code == 200


def test_an_opted_out_user_gets_no_digest(
    page_as, finance, sales, csm, django_capture_on_commit_callbacks
):
    page_as(csm).post("/profile", {})
    customer = CustomerFactory(name="Acme", csm=csm)
    UsageFactory(customer=customer, year=YEAR, month=MONTH, api_usage=1_500_000)
    with django_capture_on_commit_callbacks(execute=True):
        bill_generate(year=YEAR, month=MONTH, user=finance)
    assert [m.to for m in mail.outbox] == [["sam@example.com"]]
