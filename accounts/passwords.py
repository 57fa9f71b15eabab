"""The password rules beyond Django's own validators: one maximum length, which sign-up,
password changes and the admin enforce (a validator in AUTH_PASSWORD_VALIDATORS) and login
accepts (accounts.services.user_authenticate), so a password that was accepted always logs in."""

from __future__ import annotations

from django.core.exceptions import ValidationError

# Long enough for any passphrase or password manager; bcrypt-SHA256 hashes every character.
PASSWORD_MAX_LENGTH = 4096


class MaximumLengthValidator:
    """Refuses a password longer than PASSWORD_MAX_LENGTH characters (the most login reads)."""

    def __init__(self, max_length: int = PASSWORD_MAX_LENGTH):
        self.max_length = min(max_length, PASSWORD_MAX_LENGTH)

    def validate(self, password: str, user=None) -> None:
        """Raise ValidationError (code "password_too_long") when the password is too long."""
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long. It must contain at most {self.max_length} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        """The rule, as the password forms show it."""
        return f"Your password must contain at most {self.max_length} characters."
