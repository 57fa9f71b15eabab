"""User names that would render the same as another user's are refused, at every door (the
sign-up page, POST /api/users, the admin), and so are invisible and direction-control
characters; the database holds the rule when two sign-ups race."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role, User
from accounts.names import name_key, name_skeleton
from tests.factories import UserFactory, refused_by_the_database

PASSWORD = "a long enough passphrase"
CLASH = "That name reads the same as the existing user “sam”; choose another."

# name tried while the user "sam" exists -> the refusal, or None for accepted
NAMES = [
    ("sam2", None),
    ("samuel", None),
    ("sám", None),  # an accent shows: another name
    ("SAM", CLASH),
    ("Sam", CLASH),
    ("\u0455am", CLASH),  # Cyrillic dze
    ("s\u0430m", CLASH),  # Cyrillic a
    ("S\u0391M", CLASH),  # Greek capital alpha
    ("\uff53\uff41\uff4d", CLASH),  # fullwidth
    ("\U0001d42c\U0001d41a\U0001d426", CLASH),  # mathematical bold
    (
        "s\u200bam",
        "Use only visible characters: invisible and direction-control characters (U+200B) "
        "would make this name read as another.",
    ),
    (
        "\u202emas",
        "Use only visible characters: invisible and direction-control characters (U+202E) "
        "would make this name read as another.",
    ),
    (
        "sa\u034fm\u2066",
        "Use only visible characters: invisible and direction-control characters (U+034F, "
        "U+2066) would make this name read as another.",
    ),
    (
        "sam\u3164",
        "Use only visible characters: invisible and direction-control characters "
        "(U+3164) would make this name read as another.",
    ),  # fmt: skip
]

# Skeletons, written out: what two names must share to be one.
SKELETONS = [
    ("Ann  Lee", "ann lee"),
    ("ANN LEE", "ann lee"),
    ("\u0410nn L\u0435\u0435", "ann lee"),
    ("Stra\u00dfe", "strasse"),
    ("\ufb01na", "fina"),
    ("Zoë", "zoë"),
    ("Zoe\u0308", "zoë"),
]


@pytest.mark.parametrize(("name", "skeleton"), SKELETONS)
def test_the_skeleton_is_what_look_alike_names_share(name, skeleton):
    assert name_skeleton(name) == skeleton


@pytest.mark.parametrize(("name", "refusal"), NAMES)
def test_sign_up_through_the_api_refuses_a_look_alike_name(db, anon, name, refusal):
    UserFactory(name="sam", role=Role.SALES)
    body = {"name": name, "email": "x@example.com", "role": "Sales", "password": PASSWORD}
    response = anon.post("/api/users", body)
    if refusal is None:
        assert response.status_code == 201, response.content
    else:
        assert (response.status_code, response.json()) == (400, {"name": [refusal]})
        assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "refusal"), [("s\u0430m", CLASH), ("sa\u200bm", NAMES[10][1]), ("sam2", None)]
)
def test_sign_up_on_the_page_refuses_a_look_alike_name(db, client, name, refusal):
    UserFactory(name="sam", role=Role.SALES)
    data = {
        "intent": "signup",
        "signup-name": name,
        "signup-email": "x@example.com",
        "signup-role": Role.SALES,
        "signup-password": PASSWORD,
    }
    response = client.post("/welcome", data)
    if refusal is None:
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert response.context["signup_form"].errors["name"] == [refusal]


def _add_user(staff_client, name):
    return staff_client.post(
        reverse("admin:accounts_user_add"),
        {
            "name": name,
            "email": "n@example.com",
            "role": Role.SALES,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )


@pytest.mark.parametrize(("name", "refusal"), [("S\u0391M", CLASH), ("\u202emas", NAMES[11][1])])
def test_the_admin_refuses_a_look_alike_name_for_a_new_user(staff_client, name, refusal):
    UserFactory(name="sam", role=Role.SALES)
    response = _add_user(staff_client, name)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [refusal]
    assert not User.objects.filter(email="n@example.com").exists()


def test_the_admin_refuses_renaming_a_user_to_look_like_another(staff_client, finance):
    UserFactory(name="sam", role=Role.SALES)
    url = reverse("admin:accounts_user_change", args=[finance.pk])
    form = staff_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "groups"}
    data.update(name="\u0455am", date_joined_0="2025-01-01", date_joined_1="00:00:00")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == [CLASH]
    finance.refresh_from_db()
    assert finance.name == "fiona"


def test_a_rename_moves_the_users_name_key_with_it(db):
    user = UserFactory(name="newbie")
    user.name = "Nеwbie"
    user.save(update_fields=["name"])
    assert User.objects.get(pk=user.pk).name_key == name_key("newbie")
    user.name = "oldie"
    user.save(update_fields=["name"])
    assert User.objects.get(pk=user.pk).name_key == name_key("OLDIE")


def test_the_database_refuses_two_names_that_read_the_same(db):
    UserFactory(name="sam")
    refused_by_the_database(lambda: User.objects.create_user(name="\u0455am", password="x"))
