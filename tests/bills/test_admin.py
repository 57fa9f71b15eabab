"""The bill admin: bills and their history are read-only."""

from django.urls import reverse

from tests.factories import make_bill


def test_bills_and_history_are_read_only_in_the_admin(staff_client, customer, finance):
    bill = make_bill(customer=customer, finance=finance)
    action = bill.actions.get()
    change = staff_client.get(reverse("admin:bills_bill_change", args=[bill.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert staff_client.get(reverse("admin:bills_bill_add")).status_code == 403
    assert staff_client.post(reverse("admin:bills_bill_delete", args=[bill.pk])).status_code == 403
    assert (
        staff_client.post(
            reverse("admin:bills_billaction_change", args=[action.pk]), {"comment": "x"}
        ).status_code
        == 403
    )
