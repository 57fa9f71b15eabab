"""A customer name of 120 characters without a space wraps (the full name in a tooltip), and
never pushes the actions off the screen or over the amount: on a desktop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bills.models import Status
from tests.factories import CustomerFactory, UsageFactory

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "Verylongcustomername" * 6  # 120 characters, no space to break at
SIZES = [{"width": 1280, "height": 800}, {"width": 390, "height": 844}]

# Every visible button or link of the area, and the element it must not overlap.
BOXES = """([actions, avoid]) => {
    const box = el => el.getBoundingClientRect();
    const seen = el => el.checkVisibility({visibilityProperty: true, opacityProperty: true});
    const shown = [...document.querySelectorAll(actions)].filter(seen);
    const others = [...document.querySelectorAll(avoid)].filter(seen);
    return {
        viewport: document.documentElement.clientWidth,
        scroll: document.documentElement.scrollWidth,
        actions: shown.map(el => { const b = box(el); return [b.left, b.right, b.top, b.bottom]; }),
        avoid: others.map(el => { const b = box(el); return [b.left, b.right, b.top, b.bottom]; }),
    };
}"""


def _overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def check_fits(page, actions: str, avoid: str) -> None:
    found = page.evaluate(BOXES, [actions, avoid])
    assert found["scroll"] <= found["viewport"], found
    assert found["actions"], f"no {actions} on {page.url}"
    for box in found["actions"]:
        assert box[0] >= 0 and box[1] <= found["viewport"], (box, found["viewport"], page.url)
        for other in found["avoid"]:
            assert not _overlap(box, other), (box, other, page.url)


@pytest.fixture
def long_bill(bill_in):
    customer = CustomerFactory(name=LONG, csm=None)
    return bill_in(Status.DRAFT, customer=customer)


@pytest.mark.parametrize("size", SIZES, ids=["1280", "390"])
def test_a_long_name_wraps_and_the_actions_stay_on_screen(
    page, login, sales, finance, long_bill, size
):
    page.set_viewport_size(size)
    login(sales)
    page.goto("/dashboard")
    row = page.locator(f"#bill-row-{long_bill.pk}")
    expect(row.locator(".cell-customer a")).to_have_attribute("title", LONG)
    check_fits(page, f"#bill-row-{long_bill.pk} .cell-actions :is(button, a)", ".cell-amount")

    page.goto(f"/bills/{long_bill.pk}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(LONG)
    check_fits(page, ".bill-actions :is(button, a), main form button", ".big-amount")

    UsageFactory(customer=long_bill.customer, year=2025, month=4, api_usage=10)
    page.goto("/customers")
    expect(page.get_by_role("link", name=LONG)).to_have_attribute("title", LONG)
    for path in ("/customers", "/usage"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{path} is {width}px wide"
