"""A mail backend whose server is always down, for the failed-delivery tests."""

from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server refused the connection")


class FlakyBackend(BaseEmailBackend):
    """Refuses the first `FlakyBackend.failures` sends, then delivers to Django's test outbox."""

    failures = 0

    def send_messages(self, email_messages):
        from django.core import mail

        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise TimeoutError("mail server timed out")
        mail.outbox.extend(email_messages)
        return len(email_messages)
