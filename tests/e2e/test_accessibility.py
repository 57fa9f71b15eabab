"""Accessibility and keyboard use in a real browser: names, labels, contrast, focus.

The audits are small in-page scripts (tests/e2e/audit.py) rather than axe, which would need a CDN.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.audit import NAMES_AND_LABELS, TEXT_CONTRAST

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"desk": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def pages_of(demo) -> list[str]:
    acme = demo["customers"]["acme"]
    bill = demo["bills"]["acme"]
    return [
        "/dashboard",  # Sales: the queue
        "/dashboard?awaiting=",  # every bill
        "/dashboard?status=sent&customer=nobody",  # the empty state
        f"/bills/{bill.pk}",
        f"/bills/{demo['bills']['globex'].pk}",
        "/customers",
        f"/customers/{acme.pk}",
        f"/bills/{bill.pk}/invoice",
        "/profile",
    ]


def audit(page, script: str, where: str) -> list[str]:
    return [f"{where}: {problem}" for problem in page.evaluate(script)]


@pytest.mark.parametrize("size", SIZES)
def test_the_welcome_page_is_labelled_and_readable(page, size):
    page.set_viewport_size(SIZES[size])
    page.goto("/welcome")
    problems = audit(page, NAMES_AND_LABELS, "/welcome") + audit(page, TEXT_CONTRAST, "/welcome")
    signup = page.get_by_role("form", name="Sign up")
    signup.get_by_label("Name").fill("nora")
    signup.get_by_label("Email").fill("nora@example.com")
    signup.get_by_label("Role").select_option("Sales")
    signup.get_by_label("Password").fill("123")
    signup.get_by_role("button", name="Sign up").click()
    password = page.get_by_role("form", name="Sign up").get_by_label("Password")
    expect(password).to_have_accessible_description(re.compile("too short"))
    problems += audit(page, NAMES_AND_LABELS, "errors") + audit(page, TEXT_CONTRAST, "errors")
    assert problems == []


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ["finance", "sales"])
def test_every_control_has_a_label_or_name_and_every_image_a_title(
    page, login, demo, users, role, size
):
    page.set_viewport_size(SIZES[size])
    login(users[role])
    problems = []
    for path in pages_of(demo):
        page.goto(path)
        # Open every disclosure, so the forms inside are checked as people see them.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        problems += audit(page, NAMES_AND_LABELS, path)
    assert problems == []


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ["finance", "csm"])
def test_text_meets_wcag_aa_contrast_on_every_page(page, login, demo, users, role, size):
    page.set_viewport_size(SIZES[size])
    login(users[role])
    problems = []
    for path in pages_of(demo):
        page.goto(path)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        problems += audit(page, TEXT_CONTRAST, path)
    assert problems == []


def test_row_notes_and_errors_are_readable(page, login, demo, csm, sales, console_problems):
    """The messages that appear after an action (a note, a conflict) meet contrast too."""
    bill = demo["bills"]["acme"]
    login(csm)
    page.goto("/dashboard")
    row = page.locator(f"#bill-row-{bill.pk}")
    row.get_by_role("button", name="Approve").click()
    expect(row.get_by_role("status")).to_contain_text("approval recorded")
    assert audit(page, TEXT_CONTRAST, "after approve") == []
    console_problems[:] = [p for p in console_problems if "status of 409" not in p]


def test_focus_is_always_visible_on_the_dashboard(page, login, demo, sales):
    """Tab through the whole dashboard: every stop shows an outline (or a box shadow)."""
    login(sales)
    page.goto("/dashboard")
    stops = []
    for _ in range(60):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            """() => {
                const el = document.activeElement;
                const style = getComputedStyle(el);
                return {
                    what: el.tagName + ' ' + (el.textContent || el.name || '').trim().slice(0, 30),
                    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
                    shadow: style.boxShadow !== 'none',
                };
            }"""
        )
        if stop["what"].startswith("BODY"):
            break
        stops.append(stop)
    assert len(stops) > 15, "the keyboard should reach the filters, tiles, sorting and rows"
    invisible = [s["what"] for s in stops if not (s["outline"] or s["shadow"])]
    assert invisible == []


def test_the_keyboard_filters_by_status_and_sorts_in_place(page, login, demo, sales):
    login(sales)
    page.goto("/dashboard")
    page.evaluate("window.marker = 'still here'")

    page.locator("#status-counts .tab-draft").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"status=draft"))
    expect(page.locator("#status-counts .tab-draft")).to_have_attribute("aria-current", "true")
    expect(page.locator("tr[id^=bill-row-] .badge")).to_have_text(["Draft", "Draft"])

    page.get_by_role("link", name=re.compile("^Amount")).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"sort=amount"))
    expect(page.locator("th[aria-sort]")).to_have_text(re.compile("Amount"))
    amounts = page.locator("tr[id^=bill-row-] .cell-amount").all_inner_texts()
    values = [Decimal(a.removeprefix("USD").strip().replace(",", "")) for a in amounts]
    assert values == sorted(values, reverse=True)
    assert page.evaluate("window.marker") == "still here"


def test_a_status_tile_stays_chosen_when_the_other_filters_change(page, login, demo, sales):
    """The tiles reload only the table; the filter form must follow, or it undoes the tile."""
    login(sales)
    page.goto("/dashboard?awaiting=")  # every bill, not the queue
    page.locator("#status-counts .tab-rejected").click()
    expect(page).to_have_url(re.compile(r"status=rejected"))
    expect(page.get_by_label("Status", exact=True)).to_have_value("rejected")
    page.get_by_role("link", name=re.compile("^Amount")).click()
    expect(page.get_by_label("Sort by")).to_have_value("amount")

    page.get_by_label("Customer", exact=True).fill("acme")
    expect(page).to_have_url(re.compile(r"customer=acme"))
    expect(page).to_have_url(re.compile(r"status=rejected"))
    expect(page).to_have_url(re.compile(r"sort=amount"))
    expect(page.locator("tr[id^=bill-row-]")).to_have_count(1)
    expect(page.locator("tr[id^=bill-row-] .badge")).to_have_text("Rejected")


def _usd(text: str) -> Decimal:
    """ "USD 1,234.50" as the page shows an amount -> Decimal("1234.50")."""
    code, _, number = text.replace("\xa0", " ").partition(" ")
    assert code == "USD", text
    return Decimal(number.replace(",", ""))


def test_the_status_tiles_show_totals_and_follow_a_decision(page, login, demo, sales):
    login(sales)
    page.goto("/dashboard")
    draft = page.locator("#status-counts .tab-draft")
    expect(draft.locator(".tab-count")).to_have_text("2")
    before = draft.locator(".tab-amount").inner_text()
    row = page.locator(f"#bill-row-{demo['bills']['acme'].pk}")
    amount = row.locator(".cell-amount").inner_text()
    row.get_by_role("button", name="Approve").click()
    expect(draft.locator(".tab-count")).to_have_text("1")
    left = _usd(before) - _usd(amount)
    expect(draft.locator(".tab-amount")).to_have_text(f"USD {left:,.2f}")


def test_a_refused_correction_shows_its_error_in_place(
    page, login, demo, finance, console_problems
):
    """A 400 answer is swapped in like any other: the form stays open with the reason."""
    bill = demo["bills"]["acme"]
    login(finance)
    page.goto(f"/bills/{bill.pk}")
    page.evaluate("window.marker = 'still here'")
    page.get_by_text("Reprice…").click()
    form = page.get_by_role("form", name=re.compile("Set a new price"))
    form.get_by_label("New unit cost").fill("0.0000001")
    form.get_by_label("Comment").fill("Contract says less.")
    form.get_by_role("button", name="Reprice").click()

    expect(page.get_by_role("alert")).to_contain_text("Use at most 6 decimal places.")
    cost = page.get_by_label("New unit cost")
    expect(cost).to_have_attribute("aria-invalid", "true")
    expect(cost).to_have_accessible_description(re.compile("Use at most 6 decimal places"))
    expect(page.locator(".topbar")).to_be_visible()  # swapped into the page, not replacing it
    assert page.evaluate("window.marker") == "still here"

    cost.fill("0.002")
    page.get_by_role("button", name="Reprice", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("repriced")
    expect(page.locator(".big-amount")).to_have_text("USD 840.00")
    console_problems[:] = [p for p in console_problems if "status of 400" not in p]


def test_escape_closes_the_reject_popover_and_returns_focus(page, login, demo, sales):
    login(sales)
    page.goto("/dashboard")
    row = page.locator(f"#bill-row-{demo['bills']['acme'].pk}")
    summary = row.locator("summary", has_text="Reject…")
    summary.focus()
    page.keyboard.press("Enter")
    comment = row.get_by_label("Comment")
    expect(comment).to_be_visible()
    comment.focus()
    page.keyboard.press("Escape")
    expect(comment).to_be_hidden()
    expect(summary).to_be_focused()
