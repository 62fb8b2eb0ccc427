"""Passkeys (issue 18): registration, sign-in (usernameless and after the e-mail), the signature counter,
tenant isolation and lockout. Every answer is built by a software authenticator with a real key and checked
by the portal's real verification (py_webauthn)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from accounts.models import Tenant
from accounts.passkeys import challenges
from accounts.passkeys.models import Passkey, b64url, from_b64url, new_user_handle
from accounts.scoping import dangerously_unscoped, tenant_scope
from accounts.sessions import digest
from audit.events import EventType
from audit.models import AuditEvent
from tests.accounts.passkey_helpers import SoftAuthenticator, give_passkey, post_json, register, sign_in
from tests.conftest import login
from tests.factories import PASSWORD, UserFactory

SESSION = "portcullis_session"


def events(tenant, event_type):
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(event_type=event_type).order_by("seq"))


def passkeys(user):
    with tenant_scope(user.tenant):
        return list(Passkey.objects.filter(user=user))


# Registration -------------------------------------------------------------------------------------------------


def test_a_user_registers_several_passkeys_each_audited_with_a_notice(acme_basic, django_capture_on_commit_callbacks):
    client = login(Client(), acme_basic)
    mail.outbox.clear()
    laptop, phone = SoftAuthenticator(), SoftAuthenticator()
    with django_capture_on_commit_callbacks(execute=True):
        assert register(client, laptop, "Laptop").status_code == 200
        assert register(client, phone, "Phone").status_code == 200
    rows = passkeys(acme_basic)
    assert sorted(p.name for p in rows) == ["Laptop", "Phone"]
    assert rows[0].user_handle == rows[1].user_handle  # one WebAuthn user handle per user
    assert from_b64url(rows[0].user_handle)[:8] == acme_basic.tenant_id.to_bytes(8, "big")
    assert {p.credential_id for p in rows} == {b64url(laptop.credential_id), b64url(phone.credential_id)}
    enrolled = events(acme_basic.tenant, EventType.MFA_ENROLLED)
    assert [e.after["factor"] for e in enrolled][-2:] == ["passkey", "passkey"]
    assert len(mail.outbox) == 2 and "passkey was added" in mail.outbox[0].subject


def test_the_second_registration_excludes_the_users_passkeys(acme_basic):
    client = login(Client(), acme_basic)
    laptop = SoftAuthenticator()
    register(client, laptop)
    options = client.post("/accounts/security/passkeys/add/options/").json()
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(laptop.credential_id)]
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["rp"]["id"] == "localhost"


def test_the_public_key_is_sealed_for_its_tenant_row_and_user(acme_basic):
    client = login(Client(), acme_basic)
    register(client, SoftAuthenticator())
    [passkey] = passkeys(acme_basic)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed_public_key FROM accounts_passkey WHERE id = %s", [passkey.pk])
        [raw] = cursor.fetchone()
    assert raw.startswith("v1:") and passkey.sealed_public_key.split(":")[1] not in raw


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ({"origin": "https://evil.example"}, "another origin"),
        ({"rp_id": "evil.example"}, "another relying party"),
    ],
)
def test_a_registration_from_elsewhere_is_refused_and_changes_nothing(acme_basic, answer, why):
    client = login(Client(), acme_basic)
    options = client.post("/accounts/security/passkeys/add/options/").json()
    credential = SoftAuthenticator().create(options, **answer)
    response = post_json(client, "/accounts/security/passkeys/add/finish/", {"credential": credential, "name": "X"})
    assert response.status_code == 400, why
    assert response.json()["error"] == "The passkey could not be registered. Try again."
    assert passkeys(acme_basic) == []


def test_a_registration_without_user_verification_is_refused(acme_basic):
    client = login(Client(), acme_basic)
    options = client.post("/accounts/security/passkeys/add/options/").json()
    credential = SoftAuthenticator(user_verified=False).create(options)
    response = post_json(client, "/accounts/security/passkeys/add/finish/", {"credential": credential, "name": "X"})
    assert response.status_code == 400 and passkeys(acme_basic) == []


def test_a_registration_answer_is_single_use(acme_basic):
    client = login(Client(), acme_basic)
    options = client.post("/accounts/security/passkeys/add/options/").json()
    body = {"credential": SoftAuthenticator().create(options), "name": "Laptop"}
    assert post_json(client, "/accounts/security/passkeys/add/finish/", body).status_code == 200
    again = post_json(client, "/accounts/security/passkeys/add/finish/", body)
    assert again.status_code == 400 and again.json()["error"] == "The request expired. Try again."
    assert len(passkeys(acme_basic)) == 1


@pytest.mark.parametrize("name", ["", "x" * 65, "bad\x00name"])
def test_a_bad_name_is_refused_and_nothing_is_registered(acme_basic, name):
    client = login(Client(), acme_basic)
    options = client.post("/accounts/security/passkeys/add/options/").json()
    body = {"credential": SoftAuthenticator().create(options), "name": name}
    response = post_json(client, "/accounts/security/passkeys/add/finish/", body)
    assert response.status_code == 400 and "name" in response.json()["error"]
    assert passkeys(acme_basic) == []


def test_registration_needs_a_recent_verification(acme_basic, clock):
    client = login(Client(), acme_basic)
    clock.shift(11 * 60)
    response = client.post("/accounts/security/passkeys/add/options/")
    assert response.status_code == 403
    assert response.json()["redirect"] == "/accounts/security/passkeys/add/"
    page = client.get("/accounts/security/passkeys/add/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/mfa/step-up/")


def test_a_challenge_lives_two_minutes(acme_basic, clock):
    client = login(Client(), acme_basic)
    options = client.post("/accounts/security/passkeys/add/options/").json()
    clock.shift(challenges.LIFETIME_SECONDS + 1)
    body = {"credential": SoftAuthenticator().create(options), "name": "Late"}
    response = post_json(client, "/accounts/security/passkeys/add/finish/", body)
    assert response.status_code == 400 and passkeys(acme_basic) == []


# Sign-in ------------------------------------------------------------------------------------------------------


def test_a_usernameless_sign_in_is_a_full_mfa_login(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    client = Client()
    client.get("/accounts/login/")
    options, finish = sign_in(client, authenticator)
    assert options.json()["allowCredentials"] == [] and options.json()["userVerification"] == "required"
    assert finish.status_code == 200 and finish.json() == {"redirect": "/"}
    home = client.get("/")
    assert home.status_code == 200  # no MFA step: the passkey was both factors
    assert home.wsgi_request.user == acme_basic and home.wsgi_request.user.is_verified()
    [success] = events(acme_basic.tenant, EventType.LOGIN_SUCCEEDED)
    assert success.after == {"factor": "passkey"}
    from accounts.auth_models import UserSession

    with tenant_scope(acme_basic.tenant):
        row = UserSession.objects.get(user=acme_basic)
    assert row.key_digest == digest(client.cookies[SESSION].value)  # registered under the rotated id
    [passkey] = passkeys(acme_basic)
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


def test_ses1_the_session_id_changes_at_a_passkey_sign_in(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    client = Client()
    options = client.post("/accounts/passkeys/sign-in/options/", {"username": ""})
    before = client.cookies[SESSION].value
    body = {"credential": authenticator.get(options.json())}
    assert post_json(client, "/accounts/passkeys/sign-in/", body).status_code == 200
    assert client.cookies[SESSION].value != before


def test_a_sign_in_after_the_email_names_only_that_accounts_passkeys(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    options, finish = sign_in(Client(), authenticator, email="BASIC1@acme.example")
    assert [c["id"] for c in options.json()["allowCredentials"]] == [b64url(authenticator.credential_id)]
    assert finish.status_code == 200


def test_ins7_an_unknown_address_gets_the_same_stand_ins_every_time(db):
    first = Client().post("/accounts/passkeys/sign-in/options/", {"username": "nobody@acme.example"}).json()
    second = Client().post("/accounts/passkeys/sign-in/options/", {"username": "nobody@acme.example"}).json()
    ids = [c["id"] for c in first["allowCredentials"]]
    assert 1 <= len(ids) <= 2 and ids == [c["id"] for c in second["allowCredentials"]]
    assert first["challenge"] != second["challenge"]


def test_a_sign_in_answer_is_single_use(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    client = Client()
    options = client.post("/accounts/passkeys/sign-in/options/").json()
    body = {"credential": authenticator.get(options)}
    assert post_json(client, "/accounts/passkeys/sign-in/", body).status_code == 200
    replay = Client()
    replay.post("/accounts/passkeys/sign-in/options/")  # a fresh challenge: the old answer does not fit it
    refused = post_json(replay, "/accounts/passkeys/sign-in/", body)
    assert refused.status_code == 400 and replay.get("/").status_code == 302


def test_a_wrong_signature_is_refused_and_audited_without_the_answer(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    impostor = SoftAuthenticator(credential_id=authenticator.credential_id, user_handle=authenticator.user_handle)
    _options, finish = sign_in(Client(), impostor)
    assert finish.status_code == 400
    assert finish.json()["error"] == "This passkey cannot sign you in here."
    [failure] = events(acme_basic.tenant, EventType.LOGIN_FAILED)
    assert failure.after == {"factor": "passkey", "reason": "invalid"}
    assert passkeys(acme_basic)[0].sign_count == 0


def test_an_authenticator_without_user_verification_cannot_sign_in(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    authenticator.user_verified = False
    _options, finish = sign_in(Client(), authenticator)
    assert finish.status_code == 400


@pytest.mark.parametrize("presented", [5, 4])
def test_a_cloned_authenticators_counter_is_refused_and_audited(acme_basic, presented):
    _passkey, authenticator = give_passkey(acme_basic)
    for _ in range(5):
        assert sign_in(Client(), authenticator)[1].status_code == 200
    assert passkeys(acme_basic)[0].sign_count == 5
    _options, finish = sign_in(Client(), authenticator, count=presented)  # a copy of the key, behind
    assert finish.status_code == 400
    [clone] = events(acme_basic.tenant, EventType.PASSKEY_CLONE_DETECTED)
    assert clone.after["stored_count"] == 5 and clone.after["presented_count"] == presented
    assert events(acme_basic.tenant, EventType.LOGIN_FAILED)[-1].after["reason"] == "cloned"
    assert passkeys(acme_basic)[0].sign_count == 5
    assert sign_in(Client(), authenticator, count=6)[1].status_code == 200  # the genuine one goes on


def test_an_authenticator_that_does_not_count_may_sign_in_again(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    for _ in range(2):
        assert sign_in(Client(), authenticator, count=0)[1].status_code == 200
    assert events(acme_basic.tenant, EventType.PASSKEY_CLONE_DETECTED) == []


def test_a_deactivated_user_cannot_sign_in_with_a_passkey(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    with dangerously_unscoped():
        type(acme_basic).objects.filter(pk=acme_basic.pk).update(is_active=False)
    client = Client()
    _options, finish = sign_in(client, authenticator)
    assert finish.status_code == 400 and client.get("/").status_code == 302
    assert events(acme_basic.tenant, EventType.LOGIN_FAILED)[-1].after["reason"] == "inactive"


def test_a_deactivated_tenant_cannot_sign_in_with_a_passkey(acme_basic):
    _passkey, authenticator = give_passkey(acme_basic)
    Tenant.objects.filter(pk=acme_basic.tenant_id).update(is_active=False)
    assert sign_in(Client(), authenticator)[1].status_code == 400


def test_a_signed_in_user_cannot_start_a_sign_in(acme_basic):
    client = login(Client(), acme_basic)
    assert client.post("/accounts/passkeys/sign-in/options/").status_code == 404
    assert client.get("/accounts/passkeys/sign-in/options/").status_code == 405


def test_auth2_failed_passkey_answers_lock_the_account_from_that_address_like_passwords(acme_basic, clock):
    _passkey, authenticator = give_passkey(acme_basic)
    impostor = SoftAuthenticator(credential_id=authenticator.credential_id, user_handle=authenticator.user_handle)
    client = Client(REMOTE_ADDR="10.0.0.7")
    statuses = [sign_in(client, impostor)[1].status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    _options, genuine = sign_in(client, authenticator)
    assert genuine.status_code == 429  # even the right passkey, for 15 minutes
    assert passkeys(acme_basic)[0].sign_count == 0  # nothing was checked
    password = client.post("/accounts/login/", {"username": acme_basic.email, "password": PASSWORD})
    assert password.status_code == 429  # one count for the account, whatever the factor
    assert events(acme_basic.tenant, EventType.LOCKOUT)
    clock.shift(15 * 60 + 1)
    assert sign_in(Client(REMOTE_ADDR="10.0.0.7"), authenticator)[1].status_code == 200


def test_unknown_credentials_are_limited_per_address(db):
    client = Client(REMOTE_ADDR="10.0.0.9")
    stranger = SoftAuthenticator(user_handle=new_user_handle(1))
    statuses = {sign_in(client, stranger)[1].status_code for _ in range(20)}
    assert statuses == {400}
    assert sign_in(client, stranger)[1].status_code == 429
    assert sign_in(Client(REMOTE_ADDR="10.0.0.10"), stranger)[1].status_code == 400


# Tenant isolation ---------------------------------------------------------------------------------------------


def test_a_passkey_of_acme_never_signs_in_to_globex(acme_basic, globex):
    _passkey, authenticator = give_passkey(acme_basic)
    client = Client()
    _options, finish = sign_in(client, authenticator, organisation="globex")
    assert finish.status_code == 400 and client.get("/").status_code == 302
    globex_handle = globex.pk.to_bytes(8, "big") + authenticator.user_handle[8:]
    _options, forged = sign_in(Client(), authenticator, user_handle=globex_handle)
    assert forged.status_code == 400


def test_a_passkey_row_copied_to_another_tenant_does_not_sign_in_there(acme_basic, globex):
    passkey, authenticator = give_passkey(acme_basic)
    twin = UserFactory(tenant=globex, email=acme_basic.email)
    copy, _twin_authenticator = give_passkey(twin, SoftAuthenticator(credential_id=authenticator.credential_id))
    handle = globex.pk.to_bytes(8, "big") + authenticator.user_handle[8:]
    with connection.cursor() as cursor:  # someone writing the table copies acme's row over globex's, as it is
        cursor.execute(
            "UPDATE accounts_passkey SET sealed_public_key = (SELECT sealed_public_key FROM accounts_passkey"
            " WHERE id = %s), uid = (SELECT uid FROM accounts_passkey WHERE id = %s), user_handle = %s WHERE id = %s",
            [passkey.pk, passkey.pk, b64url(handle), copy.pk],
        )
    _options, finish = sign_in(Client(), authenticator, organisation="globex", user_handle=handle)
    assert finish.status_code == 400  # found in globex, but its sealed key does not decrypt there
    assert events(globex, EventType.LOGIN_FAILED)[-1].after == {"factor": "passkey", "reason": "invalid"}
    _options, by_email = sign_in(Client(), authenticator, email=acme_basic.email, organisation="globex")
    assert by_email.status_code == 400


def test_a_passkey_moved_to_another_user_is_refused(acme_basic):
    passkey, authenticator = give_passkey(acme_basic)
    other = UserFactory(tenant=acme_basic.tenant)
    with tenant_scope(acme_basic.tenant):
        Passkey.objects.filter(pk=passkey.pk).update(user=other)
    _options, finish = sign_in(Client(), authenticator)
    assert finish.status_code == 400 and events(acme_basic.tenant, EventType.LOGIN_SUCCEEDED) == []


def test_another_users_passkey_is_404_on_every_page(acme_basic, acme_admin):
    theirs, _authenticator = give_passkey(acme_admin)
    client = login(Client(), acme_basic)
    for action in ("rename", "remove"):
        path = f"/accounts/security/passkeys/{theirs.pk}/{action}/"
        assert client.get(path).status_code == 404
        assert client.post(path, {"name": "Mine now"}).status_code == 404
    assert passkeys(acme_admin)[0].name == "Test passkey"


def test_only_ones_own_passkeys_can_verify(acme_basic, acme_admin):
    _theirs, their_authenticator = give_passkey(acme_admin)
    give_passkey(acme_basic)
    client = login(Client(), acme_basic)
    options = client.post("/accounts/passkeys/verify/options/", {"stage": "step_up"}).json()
    body = {"credential": their_authenticator.get(options)}
    response = post_json(client, "/accounts/passkeys/verify/", body)
    assert response.status_code == 400
    [failure] = events(acme_basic.tenant, EventType.MFA_FAILED)
    assert failure.after["reason"] == "unknown" and failure.after["factor"] == "passkey"


def test_the_login_page_offers_a_passkey_with_its_script_and_no_inline_script(db):
    page = Client().get("/accounts/login/")
    body = page.content.decode()
    assert 'data-passkey="sign-in"' in body and "/static/accounts/passkeys.js" in body
    assert "<script>" not in body and "script-src 'self'" in page["Content-Security-Policy"]


def test_sign_in_options_wait_less_than_the_challenge_lives(db):
    options = Client().post("/accounts/passkeys/sign-in/options/").json()
    assert options["timeout"] <= challenges.LIFETIME_SECONDS * 1000
    assert len(from_b64url(options["challenge"])) >= 16


# Relying party settings ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rp_id", "origins", "problems"),
    [
        ("", [], 0),  # the defaults follow PORTCULLIS_BASE_URL: localhost
        ("portal.example.com", ["https://portal.example.com", "https://eu.portal.example.com"], 0),
        ("10.0.0.1", ["https://10.0.0.1"], 1),  # an address is no relying party id
        ("portal.example.com", ["http://portal.example.com"], 1),  # http only on localhost
        ("portal.example.com", ["https://evil.example"], 1),  # not on the id
    ],
)
def test_the_relying_party_settings_are_checked_at_start_up(settings, rp_id, origins, problems):
    from accounts.passkeys.relying_party import check_relying_party

    settings.PASSKEY_RP_ID, settings.PASSKEY_ORIGINS = rp_id, origins
    errors = check_relying_party()
    assert len(errors) == problems and all(error.id == "accounts.passkeys.E001" for error in errors)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"[" * 20000 + b"]" * 20000,
        b'{"credential": {"id": "!!", "rawId": "!!", "type": "public-key", "response": {}}}',
        b'{"credential": {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"clientDataJSON": "AA",'
        b' "authenticatorData": "AA", "signature": "AA", "userHandle": "AAAAAAAAAAE"}}}',
    ],
)
def test_fc2_a_malformed_answer_is_a_clear_400_and_changes_nothing(acme_basic, body):
    give_passkey(acme_basic)
    for options_url, finish_url in (
        ("/accounts/passkeys/sign-in/options/", "/accounts/passkeys/sign-in/"),
        ("/accounts/security/passkeys/add/options/", "/accounts/security/passkeys/add/finish/"),
    ):
        client = Client() if "sign-in" in options_url else login(Client(), acme_basic)
        client.post(options_url)
        response = client.post(finish_url, data=body, content_type="application/json")
        assert response.status_code == 400 and response.json()["error"]
    assert len(passkeys(acme_basic)) == 1
    assert all(e.after["factor"] != "passkey" for e in events(acme_basic.tenant, EventType.LOGIN_SUCCEEDED))
