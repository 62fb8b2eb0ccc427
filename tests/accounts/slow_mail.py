"""An e-mail backend as slow as an SMTP relay (about 30 ms a message, as measured in issue 13), keeping the
messages in django.core.mail.outbox like the test backend."""

import time

from django.core.mail.backends.locmem import EmailBackend


class SlowBackend(EmailBackend):
    def send_messages(self, messages):
        time.sleep(0.03 * len(messages))
        return super().send_messages(messages)
