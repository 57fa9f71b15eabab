import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.models import Role, User
from accounts.services import user_logout_everywhere, user_signup
from tests.factories import PASSWORD, UserFactory


def test_it_hashes_passwords_with_bcrypt_sha256(db):
    user = User.objects.create_user(name="bea", email="b@example.com", password="s3cret-pass!")
    assert user.password.startswith("bcrypt_sha256$")
    assert identify_hasher(user.password).algorithm == "bcrypt_sha256"
    assert check_password("s3cret-pass!", user.password)
    assert not check_password("wrong", user.password)


def test_name_is_the_unique_login(db):
    UserFactory(name="dup")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(name="dup", role=Role.SALES, password="x")


def test_name_is_unique_ignoring_case_in_the_database(db):
    # Sign-up checks the name in any case first; the constraint holds when two sign-ups race.
    UserFactory(name="sam")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(name="Sam", role=Role.SALES, password="x")


def test_a_signup_that_loses_the_race_for_a_name_is_a_400(db, monkeypatch):
    from billing_site.core.errors import DomainError

    UserFactory(name="sam")
    # Stand-in for the race: the other sign-up commits between our check and our insert.
    monkeypatch.setattr("accounts.services.name_errors", lambda name: [])
    with pytest.raises(DomainError) as caught:
        user_signup(name="SAM", email="s@example.com", role=Role.SALES, password=PASSWORD)
    assert caught.value.errors == {"name": ["That name is taken."]}
    assert User.objects.filter(name__iexact="sam").count() == 1


def test_session_token_is_unique(db):
    a = UserFactory(name="a")
    b = UserFactory(name="b")
    assert a.session_token != b.session_token
    b.session_token = a.session_token
    with pytest.raises(IntegrityError), transaction.atomic():
        b.save()


def test_role_must_be_one_of_the_three(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(name="x", role="Janitor", password="x")


def _logged_in_client(user) -> Client:
    client = Client()
    assert client.login(name=user.name, password=PASSWORD)
    return client


def _is_logged_in(client: Client) -> bool:
    from django.contrib.auth import get_user
    from django.http import HttpRequest

    request = HttpRequest()
    request.session = client.session
    return get_user(request).is_authenticated


def test_logout_everywhere_ends_every_session_of_the_user(db):
    user = UserFactory(name="multi", role=Role.FINANCE)
    other = UserFactory(name="bystander", role=Role.SALES)
    laptop, phone, theirs = (
        _logged_in_client(user),
        _logged_in_client(user),
        _logged_in_client(other),
    )
    assert _is_logged_in(laptop) and _is_logged_in(phone)
    old_token = user.session_token

    user_logout_everywhere(user=user)

    user.refresh_from_db()
    assert user.session_token != old_token
    assert not _is_logged_in(laptop)
    assert not _is_logged_in(phone)
    assert _is_logged_in(theirs)


def test_a_new_password_also_ends_the_bearer_token(db):
    # Resetting the password of a leaked account must cut off its API token too, not only its
    # sessions (whose hash already includes the password).
    user = UserFactory(name="leaky", role=Role.FINANCE)
    old_token = user.session_token
    api = Client(HTTP_AUTHORIZATION=f"Bearer {old_token}")
    assert api.get("/api/session").status_code == 200

    user.set_password("a brand new passphrase")
    user.save()

    user.refresh_from_db()
    assert user.session_token != old_token
    assert api.get("/api/session").status_code == 401


def test_a_new_password_saved_with_update_fields_also_rotates_the_token(db):
    user = UserFactory(name="partial", role=Role.FINANCE)
    old_token = user.session_token
    user.set_password("a brand new passphrase")
    user.save(update_fields=["password"])
    user.refresh_from_db()
    assert user.session_token != old_token


def test_a_password_hash_upgrade_at_login_keeps_the_token(db):
    from django.contrib.auth.hashers import make_password

    user = UserFactory(name="legacy", password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    token = user.session_token
    assert user.check_password(PASSWORD)  # rehashes with bcrypt and saves
    user.refresh_from_db()
    assert user.password.startswith("bcrypt_sha256$")
    assert user.session_token == token


def test_saving_other_fields_keeps_the_token(db):
    user = UserFactory(name="steady")
    token = user.session_token
    user.email = "steady@example.com"
    user.save()
    user.refresh_from_db()
    assert user.session_token == token


def test_session_hash_depends_on_the_token(db):
    user = UserFactory(name="hashy")
    before = user.get_session_auth_hash()
    user.rotate_session_token()
    assert user.get_session_auth_hash() != before


@pytest.mark.parametrize("key", ["abcdefgh\x00ijk", "x" * 500, "../../etc/passwd", "ABCDEFGHIJ"])
def test_malformed_session_cookie_is_treated_as_logged_out(client, db, key):
    from django.http.cookie import SimpleCookie

    client.cookies = SimpleCookie()
    client.cookies["sessionid"] = key
    page = client.get("/dashboard")
    assert page.status_code == 302
    assert page["Location"].startswith("/welcome")
    api = client.get("/api/session")
    assert api.status_code == 401


def test_a_real_session_key_still_works(client, finance):
    client.force_login(finance)
    assert client.get("/dashboard").status_code == 200


def test_a_factory_user_made_after_a_fast_hasher_test_has_a_hash_the_app_knows(db):
    # tests/factories.py hashes PASSWORD once per session; a test that swaps in MD5 for speed
    # (test_fuzz_api.py) left its hash to every later user, whose servers refused the login.
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        assert UserFactory(name="quick").check_password(PASSWORD)
    user = UserFactory(name="later")
    assert identify_hasher(user.password).algorithm == "bcrypt_sha256"
    assert user.check_password(PASSWORD)
