"""SSRF: https and public addresses only in production; checked again when sending."""

from __future__ import annotations

import pytest

from webhooks import targets, transport


@pytest.fixture
def production(settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.8/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://user:pw@example.com/hook",
        "javascript:alert(1)",
        "https://",
    ],
)
def test_refused_in_production(production, url):
    with pytest.raises(targets.TargetRefused):
        targets.check(url)


def test_a_public_address_is_accepted(production):
    targets.check("https://93.184.215.14/hook")  # a literal public address: no resolver needed


def test_sending_to_a_private_address_is_refused_even_if_it_was_saved(production, receiver):
    outcome = transport.post(receiver.url.replace("http:", "https:"), b"{}", {})
    assert outcome.status_code is None and "private" in outcome.error
    assert receiver.received == []
