"""The Content-Security-Policy (issue 13 "Headers") in a real browser: every page loads under it
with nothing refused (no inline script or style left behind), and htmx still works under it."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# Chromium fires `securitypolicyviolation` for everything the policy refuses, inline attributes
# included; the init script runs before any of the page's own scripts.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


@pytest.fixture
def csp_page(page, console_problems):
    page.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))

    def visit(path: str, ready):
        response = page.goto(path)
        assert response.status == 200, path
        assert response.headers["content-security-policy"] == POLICY, path
        expect(ready()).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.cspViolations") == [], path
        refused = [text for text in console if "Content Security Policy" in text]
        assert refused == [], path
        assert console_problems == [], path

    return visit


def test_every_page_loads_under_the_policy_with_nothing_refused(csp_page, page, login, demo, staff):
    acme, bills = demo["customers"]["acme"], demo["bills"]
    csp_page("/welcome", lambda: page.get_by_role("button", name="Log in"))
    login(staff)
    role = page.get_by_role
    pages = [
        ("/dashboard", lambda: role("button", name="Generate bills")),
        (f"/bills/{bills['acme'].pk}", lambda: role("heading", name="How the amount was computed")),
        (f"/bills/{bills['acme'].pk}/invoice", lambda: role("heading", name="Invoice")),
        (f"/bills/{bills['globex'].pk}/send", lambda: role("button", name="Send", exact=True)),
        ("/customers", lambda: role("link", name="Acme Corp")),
        (f"/customers/{acme.pk}", lambda: role("img", name="API calls per month")),
        ("/usage", lambda: role("heading", name=re.compile("Usage"), level=1)),
        ("/usage/record", lambda: role("heading", name="Record usage", level=1)),
        ("/bills/unbilled", lambda: role("heading", name=re.compile("Unbilled"), level=1)),
        ("/profile", lambda: role("heading", level=1)),
        ("/api/docs/", lambda: role("heading", name=re.compile("Billing desk API"))),
        ("/admin/", lambda: role("heading", name="Site administration")),
    ]
    for path, ready in pages:
        csp_page(path, ready)
    # The docs page's script (served at ?script, not inline) built the operations list.
    page.goto("/api/docs/")
    expect(page.get_by_text("/api/bills/{id}/approve")).to_be_visible()
    assert page.evaluate("window.cspViolations") == []


def test_htmx_still_swaps_under_the_policy(csp_page, page, login, demo, sales):
    login(sales)
    csp_page("/dashboard?awaiting=", lambda: page.locator("#status-counts .tab-rejected"))
    page.locator("#status-counts .tab-rejected").click()
    expect(page).to_have_url(re.compile(r"status=rejected"))
    expect(page.locator("tr[id^=bill-row-] .badge")).to_have_text("Rejected")
    row = page.locator(f"#bill-row-{demo['bills']['acme'].pk}")
    page.goto("/dashboard?status=draft")
    row.get_by_role("button", name="Approve").click()
    expect(row.locator(".badge")).to_have_text("Approved")
    assert page.evaluate("window.cspViolations") == []
