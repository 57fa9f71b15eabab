"""A mail backend for the tests that run the real worker process
(tests/billing_site/test_worker_process.py): a "mail server" that is a file the test can read.

MailboxBackend appends each message it accepts to the file named by TEST_MAILBOX, one JSON
object a line: {"to": [...], "subject": ..., "message_id": ..., "delivery_key": ...}, flushed
to disk at once. TEST_MAIL_STALL simulates a worker that stops in the middle of a delivery:
- "after": the message is written (the mail server accepted it), then the backend sleeps
  TEST_MAIL_STALL_SECONDS (default 30) before returning, so the worker has not recorded it;
- "before": the backend sleeps before writing (the mail server never got the message).
Either way it first creates the file TEST_MAILBOX + ".stalled", so the test knows when it is
inside the stall and can kill the worker there.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        """Append every message to the mailbox file (and stall as TEST_MAIL_STALL says).
        Returns how many were accepted."""
        mailbox = Path(os.environ["TEST_MAILBOX"])
        stall = os.environ.get("TEST_MAIL_STALL", "")
        if stall == "before":
            self._stall(mailbox)
        with mailbox.open("a", encoding="utf-8") as out:
            for message in email_messages:
                headers = message.extra_headers
                line = {
                    "to": list(message.to),
                    "subject": str(message.subject),
                    "message_id": headers.get("Message-ID", ""),
                    "delivery_key": headers.get("X-Delivery-Key", ""),
                }
                out.write(json.dumps(line) + "\n")
            out.flush()
            os.fsync(out.fileno())
        if stall == "after":
            self._stall(mailbox)
        return len(email_messages)

    @staticmethod
    def _stall(mailbox: Path) -> None:
        Path(f"{mailbox}.stalled").touch()
        time.sleep(float(os.environ.get("TEST_MAIL_STALL_SECONDS", "30")))
