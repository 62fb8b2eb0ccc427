"""Webhooks end to end against a real local receiver: signed, in order per resource, retried, disabled,
redelivered, isolated per tenant; and the outbox commits or rolls back with the change."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from accounts.scoping import tenant_scope
from audit.models import AuditEvent
from portal.jobs import run_due_jobs
from tests.factories import UserFactory
from tests.webhooks.conftest import give_grant, revoke, run, subscribe
from webhooks import services
from webhooks.models import Delivery, Subscription, WebhookEvent


def _verify(secret, message):
    return Webhook(secret).verify(message.body, message.headers)


def test_events_arrive_signed_and_verifiable_without_personal_data(acme_admin, receiver):
    _subscription, secret = subscribe(acme_admin, receiver.url)
    subject = UserFactory(tenant=acme_admin.tenant, email="carol.secret@acme.example")
    grant = give_grant(acme_admin, subject)
    revoke(acme_admin, grant)
    assert receiver.received == []  # nothing is sent inside the change: the outbox waits for the job

    assert run(acme_admin.tenant) == 2

    assert receiver.types == ["grant.created", "grant.revoked"]
    for message in receiver.received:
        payload = _verify(secret, message)
        assert payload["data"]["resource"] == {"type": "permissions.grant", "id": str(grant.pk)}
        assert payload["data"]["tenant"] == "acme"
        assert "carol.secret" not in message.body
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(receiver.received[0].body, receiver.received[0].headers)
    ids = {m.headers["webhook-id"] for m in receiver.received}
    assert len(ids) == 2


def test_a_rolled_back_change_leaves_nothing_to_send(acme_admin, receiver):
    subscribe(acme_admin, receiver.url)

    def change_that_fails():
        with transaction.atomic():
            give_grant(acme_admin)
            raise RuntimeError("the change fails after its audit event")

    with pytest.raises(RuntimeError):
        change_that_fails()
    with tenant_scope(acme_admin.tenant):
        assert not WebhookEvent.objects.exists() and not Delivery.objects.exists()
    assert run(acme_admin.tenant) == 0


def test_a_subscription_gets_only_the_types_it_chose(acme_admin, receiver):
    subscribe(acme_admin, receiver.url, event_types=["grant.revoked"])
    grant = give_grant(acme_admin)
    revoke(acme_admin, grant)
    run(acme_admin.tenant)
    assert receiver.types == ["grant.revoked"]


def test_events_of_one_resource_wait_for_the_earlier_ones_retry(acme_admin, receiver):
    subscribe(acme_admin, receiver.url)
    grant = give_grant(acme_admin)
    revoke(acme_admin, grant)
    other = give_grant(acme_admin, actions=("export",))
    failed_once = []

    def status_for(body):  # the first attempt of the first grant's creation fails
        data = json.loads(body)["data"]
        if data["resource"]["id"] == str(grant.pk) and not failed_once:
            failed_once.append(True)
            return 500
        return None

    receiver.status_for = status_for
    now = timezone.now()

    run(acme_admin.tenant, now)
    # The revocation of the same grant waits behind its failed creation; the other grant's event is not held up.
    assert receiver.types == ["grant.created", "grant.created"]
    assert {json.loads(r.body)["data"]["resource"]["id"] for r in receiver.received} == {str(grant.pk), str(other.pk)}

    run(acme_admin.tenant, now + timedelta(hours=1))
    bodies = [json.loads(r.body)["data"] for r in receiver.received[2:]]
    assert [(b["audit_event"], b["resource"]["id"]) for b in bodies] == [
        ("grant.created", str(grant.pk)),
        ("grant.revoked", str(grant.pk)),
    ]


@override_settings(WEBHOOKS_MAX_ATTEMPTS=3, WEBHOOKS_BACKOFF_BASE_SECONDS=60, WEBHOOKS_BACKOFF_CAP_SECONDS=3600)
def test_a_failing_receiver_is_retried_with_back_off_then_disabled_and_the_administrators_told(
    acme_admin, receiver, django_capture_on_commit_callbacks
):
    subscription, _secret = subscribe(acme_admin, receiver.url)
    give_grant(acme_admin)
    receiver.answers.extend([500, 503, 502])
    now = timezone.now()
    for attempt in (1, 2, 3):
        with django_capture_on_commit_callbacks(execute=True):
            assert run(acme_admin.tenant, now) == 1, f"attempt {attempt}"
        assert run(acme_admin.tenant, now) == 0  # not due again at once
        with tenant_scope(acme_admin.tenant):
            delivery = Delivery.objects.get()
        if attempt < 3:
            wait = delivery.next_attempt_at - now
            # base·2^(n-1) with 50-100 % jitter: 30-60 s, then 60-120 s
            assert timedelta(seconds=30 * 2 ** (attempt - 1)) <= wait <= timedelta(seconds=60 * 2 ** (attempt - 1))
            now = delivery.next_attempt_at
    assert len(receiver.received) == 3
    with tenant_scope(acme_admin.tenant):
        delivery = Delivery.objects.get()
        subscription.refresh_from_db()
        assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 3
        assert [a.status_code for a in delivery.log.order_by("id")] == [500, 503, 502]
        assert subscription.is_active is False
        assert AuditEvent.objects.filter(event_type="webhook.disabled", actor_id__isnull=True).count() == 1
        # A disabled subscription gets no new events.
    give_grant(acme_admin)
    with tenant_scope(acme_admin.tenant):
        assert Delivery.objects.count() == 1
    assert [m.to for m in mail.outbox] == [[acme_admin.email]]
    assert "disabled" in mail.outbox[0].subject


def test_a_receiver_that_recovers_gets_the_event_and_stays_active(acme_admin, receiver):
    subscription, secret = subscribe(acme_admin, receiver.url)
    give_grant(acme_admin)
    receiver.answers.extend([500])
    now = timezone.now()
    run(acme_admin.tenant, now)
    run(acme_admin.tenant, now + timedelta(hours=1))
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    _verify(secret, receiver.received[1])
    with tenant_scope(acme_admin.tenant):
        assert Delivery.objects.get().status == Delivery.Status.DELIVERED
        assert Subscription.objects.get().is_active


def test_redirects_are_failures_never_followed(acme_admin, receiver):
    subscribe(acme_admin, receiver.url)
    give_grant(acme_admin)
    receiver.answers.extend([302])
    run(acme_admin.tenant)
    assert [r.path for r in receiver.received] == ["/hook"]
    with tenant_scope(acme_admin.tenant):
        delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.last_status_code == 302


@override_settings(WEBHOOKS_TIMEOUT_SECONDS=1)
def test_a_slow_receiver_times_out_and_is_retried(acme_admin, receiver):
    subscribe(acme_admin, receiver.url)
    give_grant(acme_admin)
    receiver.delay = 1.5
    run(acme_admin.tenant)
    with tenant_scope(acme_admin.tenant):
        attempt = Delivery.objects.get().log.get()
    assert attempt.status_code is None and "timed out" in attempt.error.lower()
    assert 900 <= attempt.duration_ms < 1500


def test_redelivery_sends_the_same_message_again(acme_admin, receiver):
    _subscription, secret = subscribe(acme_admin, receiver.url)
    give_grant(acme_admin)
    run(acme_admin.tenant)
    with tenant_scope(acme_admin.tenant):
        again = services.redeliver(Delivery.objects.get(), actor=acme_admin)
        assert AuditEvent.objects.filter(event_type="webhook.redelivery").count() == 1
    run(acme_admin.tenant)
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    assert _verify(secret, receiver.received[1])["type"] == "grant.created"
    with tenant_scope(acme_admin.tenant):
        again.refresh_from_db()
    assert again.status == Delivery.Status.DELIVERED and again.manual


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(acme_admin, receiver):
    subscription, old = subscribe(acme_admin, receiver.url)
    with tenant_scope(acme_admin.tenant):
        new = services.rotate_secret(subscription, actor=acme_admin).secret
        event = AuditEvent.objects.get(event_type="webhook.secret_rotated")
    assert new != old and new.startswith("whsec_")
    assert new not in json.dumps(event.payload) and old not in json.dumps(event.payload)
    give_grant(acme_admin)
    run(acme_admin.tenant)
    message = receiver.received[0]
    assert len(message.headers["webhook-signature"].split(" ")) == 2
    _verify(old, message)
    _verify(new, message)

    with tenant_scope(acme_admin.tenant):
        Subscription.objects.filter(pk=subscription.pk).update(previous_secret_until=timezone.now())
    give_grant(acme_admin)
    run(acme_admin.tenant)
    late = receiver.received[1]
    _verify(new, late)
    with pytest.raises(WebhookVerificationError):
        _verify(old, late)


def test_a_receiver_never_gets_another_tenants_event(acme_admin, globex_admin, receiver, second_receiver):
    subscribe(acme_admin, receiver.url)
    subscribe(globex_admin, second_receiver.url)
    give_grant(globex_admin)
    give_grant(globex_admin)
    give_grant(acme_admin)

    run(acme_admin.tenant)
    assert receiver.types == ["grant.created"]
    assert second_receiver.received == []  # acme's run sends none of globex's deliveries
    run(globex_admin.tenant)
    assert len(second_receiver.received) == 2
    tenants = {json.loads(r.body)["data"]["tenant"] for r in receiver.received}
    assert tenants == {"acme"}
    assert {json.loads(r.body)["data"]["tenant"] for r in second_receiver.received} == {"globex"}


def test_the_job_runner_delivers(acme_admin, receiver):
    subscribe(acme_admin, receiver.url)
    give_grant(acme_admin)
    results = run_due_jobs()
    assert results["webhooks.deliver"] == 1
    assert receiver.types == ["grant.created"]


def test_deactivation_and_role_changes_are_sent(acme_admin, receiver):
    from accounts import services as accounts_services
    from permissions.services import roles as role_services
    from tests.factories import builtin_role

    subscribe(acme_admin, receiver.url, event_types=["user.deactivated", "user.role_changed"])
    bob = UserFactory(tenant=acme_admin.tenant)
    with tenant_scope(acme_admin.tenant):
        role_services.change_user_role(bob, builtin_role(acme_admin.tenant, "advanced"), actor=acme_admin, reason="x")
        accounts_services.deactivate_user(bob, actor=acme_admin, reason="left")
    run(acme_admin.tenant)
    assert receiver.types == ["user.role_changed", "user.deactivated"]
    assert all(bob.email not in r.body for r in receiver.received)


def test_services_refuse_another_tenants_rows_and_users_without_the_right(acme_admin, globex_admin, receiver):
    """AZ-2 in the services themselves (the views' scoped look-ups come first), and settings: change."""
    from permissions.services.errors import AccessRefused, ErrorCode

    theirs, _secret = subscribe(globex_admin, receiver.url, name="Globex hook")
    with tenant_scope(acme_admin.tenant):
        with pytest.raises(AccessRefused) as refused:
            services.rotate_secret(theirs, actor=acme_admin)
        assert refused.value.code == ErrorCode.CROSS_TENANT
        with pytest.raises(AccessRefused):
            services.delete_subscription(theirs, actor=acme_admin)
        with pytest.raises(AccessRefused):
            services.create_subscription(
                actor=acme_admin, tenant=globex_admin.tenant, name="x", url=receiver.url, event_types=["grant.created"]
            )
    basic = UserFactory(tenant=acme_admin.tenant)
    with tenant_scope(acme_admin.tenant), pytest.raises(AccessRefused) as refused:
        services.create_subscription(
            actor=basic, tenant=acme_admin.tenant, name="x", url=receiver.url, event_types=["grant.created"]
        )
    assert refused.value.code == ErrorCode.NOT_ALLOWED
    with tenant_scope(globex_admin.tenant):
        assert Subscription.objects.filter(pk=theirs.pk).exists()


def test_a_checkpoint_cosigned_by_the_quorum_is_sent_once(acme_admin, receiver):
    from audit.checkpoints import make_checkpoint
    from audit.models import Witness, WitnessSubmission
    from webhooks.outbox import emit_cosigned_checkpoints

    tenant = acme_admin.tenant
    subscribe(acme_admin, receiver.url, event_types=["checkpoint.cosigned"])
    checkpoint = make_checkpoint(tenant, force=True, witness=False)
    with tenant_scope(tenant):
        assert emit_cosigned_checkpoints(tenant) == 0  # no witness configured: nothing is "witnessed"
        witness = Witness.objects.create(tenant=tenant, name="w1", vkey="w1+00000000+AA", url="http://127.0.0.1:9")
        assert emit_cosigned_checkpoints(tenant) == 0  # not cosigned yet
        WitnessSubmission.objects.create(
            tenant=tenant, checkpoint=checkpoint, witness=witness, status=WitnessSubmission.COSIGNED, cosignature="x"
        )
        assert emit_cosigned_checkpoints(tenant) == 1
        assert emit_cosigned_checkpoints(tenant) == 0  # once
    run(tenant)
    assert receiver.types == ["checkpoint.cosigned"]
    assert json.loads(receiver.received[0].body)["data"]["checkpoint"]["index"] == checkpoint.index


@override_settings(WEBHOOKS_CONCURRENCY=4, WEBHOOKS_BATCH=5)
def test_a_run_reuses_its_connections_to_a_receiver(acme_admin, receiver):
    """Keep-alive: 20 deliveries in four rounds over at most four connections (one per sending thread)."""
    receiver.keep_alive = True
    subscribe(acme_admin, receiver.url)
    for _ in range(20):
        give_grant(acme_admin)
    assert run(acme_admin.tenant) == 20
    assert len(receiver.received) == 20
    assert 1 <= len(receiver.peers) <= 4
    with tenant_scope(acme_admin.tenant):
        assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.DELIVERED}


@override_settings(WEBHOOKS_CONCURRENCY=1, WEBHOOKS_BATCH=2)
def test_a_connection_the_receiver_closed_is_opened_again_and_nothing_is_lost(acme_admin, receiver):
    """The receiver drops its connection after every third answer without saying so: the next delivery on
    that connection is sent again on a new one, once, and every event arrives exactly once."""
    receiver.keep_alive, receiver.drop_every = True, 3
    subscribe(acme_admin, receiver.url)
    for _ in range(9):
        give_grant(acme_admin)
    assert run(acme_admin.tenant) == 9
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 9 and len(set(ids)) == 9
    assert len(receiver.peers) == 3  # a new connection after each drop
    with tenant_scope(acme_admin.tenant):
        assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def test_a_receiver_answering_in_http_1_0_gets_a_connection_per_delivery(acme_admin, receiver):
    subscribe(acme_admin, receiver.url)
    for _ in range(3):
        give_grant(acme_admin)
    assert run(acme_admin.tenant) == 3
    assert len(receiver.peers) == 3
