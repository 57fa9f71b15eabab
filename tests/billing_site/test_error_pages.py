"""Error pages in the site's style."""

import pytest
from django.template.loader import render_to_string

pytestmark = pytest.mark.django_db


def test_unknown_page_is_a_styled_404(page_as, sales):
    response = page_as(sales).get("/no-such-page")
    assert response.status_code == 404
    html = response.content.decode()
    assert "This page does not exist" in html and "/static/css/app.css" in html
    assert "Log out" in html


def test_500_page_renders_without_a_request():
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html and "/static/css/app.css" in html


def test_static_files_are_ours_and_no_cdn(page_as, sales):
    html = page_as(sales).get("/dashboard?awaiting=").content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "/static/js/app.js" in html
    assert "https://" not in html and "http://" not in html.replace("http://www.w3.org", "")


def test_debug_does_not_turn_a_swapped_error_into_a_whole_page(page_as, sales, settings):
    """django-htmx's DEBUG helper replaces the document with any 400/403/404 answer; here those
    answers are fragments to swap in (a form with its errors), so the page does not load it."""
    settings.DEBUG = True
    html = page_as(sales).get("/dashboard?awaiting=").content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "django-htmx.js" not in html
