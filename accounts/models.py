import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.names import name_key


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class Role(models.TextChoices):
    FINANCE = "Finance", "Finance"
    CUSTOMER_SUCCESS = "Customer Success", "Customer Success"
    SALES = "Sales", "Sales"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, name, email="", password=None, role=Role.FINANCE, **extra):
        if not name:
            raise ValueError("A user needs a name.")
        user = self.model(name=name, email=self.normalize_email(email), role=role, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, name, email="", password=None, role=Role.FINANCE, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(name, email, password, role, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    name = models.CharField(max_length=150, unique=True)
    # A digest of the name's skeleton (accounts.names): names that render the same share it,
    # so the unique constraint refuses a look-alike of another user's name, even under a race.
    name_key = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=32, choices=Role.choices)
    # Rotated on logout: it is mixed into the session auth hash and is the API bearer token,
    # so rotating it ends every session and token of the user at once.
    session_token = models.CharField(max_length=64, unique=True, default=new_session_token)
    # The approvers' digest (bills.services.digest): one email per month-end run when new
    # bills wait on this user's approval. Each user turns it off on their profile page.
    notify_digest = models.BooleanField(
        "email me a digest when new bills wait for my approval", default=True
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "name"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email", "role"]

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]),
                name="user_role_valid",
            ),
            # Names are unique ignoring case ("sam" and "Sam" would read as one person in a
            # bill's history); sign-up checks first, this holds when two sign-ups race.
            models.UniqueConstraint(
                Lower("name"),
                name="user_name_unique_ignoring_case",
                violation_error_message="That name is taken (names are unique ignoring case).",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def _get_session_auth_hash(self, secret=None):
        key_salt = "accounts.User.get_session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_token}", secret=secret, algorithm="sha256"
        ).hexdigest()

    def save(self, *args, **kwargs):
        self.name_key = name_key(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name_key"}
        # A new password (set_password, then save) also ends every session and API token: the
        # session hash already changes with the password, the bearer token must change with it,
        # or a reset after a leak would leave the leaked token working. check_password's silent
        # rehash clears _password before it saves, so logging in rotates nothing.
        if self._password is not None and not self._state.adding:
            self.session_token = new_session_token()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "session_token"}
        super().save(*args, **kwargs)

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()
        self.save(update_fields=["session_token"])


from accounts.models_attempts import LoginAttempt  # noqa: E402, F401  (registers the model)
