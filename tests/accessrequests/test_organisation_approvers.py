"""Organisation administrators decide their members' access requests for their organisation's records
(issue 16): the queue, the menu's count and the pages show them those requests only; approval and denial
go through the access-request service (audited, never their own request, never beyond their own rights);
another organisation's member's request is a 404, a request for a record their organisation does not own
is refused; tenant administrators still see everything."""

import pytest
from django.test import Client, RequestFactory

from accessrequests import rules, services
from accessrequests.errors import RequestCode, RequestRefused
from accessrequests.models import AccessRequest
from audit.events import EventType
from audit.models import AuditEvent
from permissions import engine
from permissions.models import BuiltinRole, Grant, Module, Resource
from permissions.services import grants
from permissions.services import organisations as orgs
from permissions.vocabulary import Action
from portal import worklist
from tests.conftest import login
from tests.factories import UserFactory
from tests.permissions.conftest import make_resource


@pytest.fixture
def world(acme, acme_admin, in_acme):
    """Initech (advanced1 its administrator; basic1, basic2 members) with its subsidiary Initech Labs
    (basic3), Umbrella (basic6); a report owned by each, one owned by nobody."""
    initech = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech")
    labs = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Initech Labs", parent=initech)
    umbrella = orgs.create_organisation(actor=acme_admin, tenant=acme, name="Umbrella")
    people = {}
    for name, role, org in [
        ("advanced1", BuiltinRole.ADVANCED, initech),
        ("basic1", BuiltinRole.BASIC, initech),
        ("basic2", BuiltinRole.BASIC, initech),
        ("basic3", BuiltinRole.BASIC, labs),
        ("basic6", BuiltinRole.BASIC, umbrella),
    ]:
        user = UserFactory(tenant=acme, email=f"{name}@acme.example", role_key=role)
        orgs.set_user_organisation(user, org, actor=None)
        user.refresh_from_db()
        people[name] = user
    grants.grant(
        actor=None,
        user=people["advanced1"],
        module=Module.objects.get(key="groups"),
        resource=Resource.objects.get(pk=initech.resource_id),
        actions=[Action.CHANGE],
        reason="Initech's administrator",
    )
    records = {}
    for key, org in (("initech", initech), ("labs", labs), ("umbrella", umbrella), ("nobody", None)):
        records[key] = make_resource(acme, "reports", f"{key} report")
        if org is not None:
            orgs.set_resource_organisation(records[key], org, actor=None)
    return {"initech": initech, "labs": labs, "umbrella": umbrella, **people, "records": records}


def ask(user, resource=None, actions=(Action.VIEW,), module="reports"):
    return services.submit(
        actor=user,
        module=Module.objects.get(key=module),
        resource=resource,
        actions=list(actions),
        reason="for the customer meeting",
        duration_days=7,
    )


@pytest.fixture
def requests(world):
    """Every kind of request the organisation administrator must or must not decide."""
    records = world["records"]
    return {
        "member_own_record": ask(world["basic1"], records["initech"]),
        "member_subsidiary_record": ask(world["basic2"], records["labs"]),
        "member_other_org_record": ask(world["basic1"], records["umbrella"]),
        "member_unowned_record": ask(world["basic2"], records["nobody"]),
        "member_whole_module": ask(world["basic1"], None),
        "subsidiary_member": ask(world["basic3"], records["labs"]),
        "other_org_member": ask(world["basic6"], records["initech"]),
        "own": ask(world["advanced1"], records["initech"], actions=(Action.CHANGE,)),
        "beyond_own_rights": ask(world["basic2"], records["initech"], actions=(Action.CHANGE,)),
    }


DECIDES = {"member_own_record", "member_subsidiary_record", "beyond_own_rights"}


def test_the_queue_holds_their_members_requests_for_their_organisations_records_only(world, requests):
    admin = world["advanced1"]
    queue = set(rules.decidable(admin, AccessRequest.objects.all()).values_list("pk", flat=True))
    assert queue == {requests[name].pk for name in DECIDES}
    for name, request in requests.items():
        assert rules.is_approver(admin, request) == (name in DECIDES), name
    readable = set(rules.readable(admin, AccessRequest.objects.all()).values_list("pk", flat=True))
    assert readable == {requests[name].pk for name in DECIDES | {"own"}}
    assert rules.may_approve_anything(admin) and not rules.may_approve_anything(world["basic1"])


def test_tenant_administrators_still_decide_everything(world, requests, acme_admin):
    queue = set(rules.decidable(acme_admin, AccessRequest.objects.all()).values_list("pk", flat=True))
    assert queue == {r.pk for r in requests.values()}


def test_approval_goes_through_the_service_and_is_audited(world, requests):
    admin, request = world["advanced1"], requests["member_own_record"]
    done = services.approve(request, actor=admin, days=3, reason="customer meeting")
    assert done.status == AccessRequest.Status.APPROVED and done.decided_by == admin
    assert done.grant.user == world["basic1"] and done.grant.resource == world["records"]["initech"]
    assert engine.can(world["basic1"], Action.VIEW, world["records"]["initech"])
    [event] = AuditEvent.objects.filter(event_type=EventType.REQUEST_APPROVED, target_id=str(request.pk))
    assert event.actor == admin
    denied = services.deny(requests["member_subsidiary_record"], actor=admin, reason="not for this project")
    assert denied.status == AccessRequest.Status.DENIED
    assert AuditEvent.objects.filter(event_type=EventType.REQUEST_DENIED, actor_id=str(admin.pk)).count() == 1


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("other_org_member", RequestCode.NOT_APPROVER),
        ("member_other_org_record", RequestCode.NOT_APPROVER),
        ("member_unowned_record", RequestCode.NOT_APPROVER),
        ("member_whole_module", RequestCode.NOT_APPROVER),
        ("subsidiary_member", RequestCode.NOT_APPROVER),
        ("own", RequestCode.SELF_APPROVAL),
        ("beyond_own_rights", RequestCode.OUT_OF_SCOPE),  # advanced holds view and export, not change
    ],
)
def test_what_they_may_not_decide_is_refused_and_changes_nothing(world, requests, name, code):
    admin, request = world["advanced1"], requests[name]
    with pytest.raises(RequestRefused) as refused:
        services.approve(request, actor=admin)
    assert refused.value.code == code
    if code != RequestCode.OUT_OF_SCOPE:  # a denial gives nothing: any approver may deny what they decide
        with pytest.raises(RequestRefused):
            services.deny(request, actor=admin, reason="no")
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.PENDING
    assert not Grant.objects.filter(user=request.requester, module__key="reports").exists()


def test_the_right_ends_with_its_grant_and_a_member_who_leaves_takes_their_requests(world, requests, acme_admin):
    admin = world["advanced1"]
    orgs.set_user_organisation(world["basic2"], None, actor=acme_admin)
    queue = set(rules.decidable(admin, AccessRequest.objects.all()).values_list("pk", flat=True))
    assert queue == {requests["member_own_record"].pk}
    grant = Grant.objects.get(user=admin, resource_id=world["initech"].resource_id)
    grants.revoke(grant, actor=acme_admin, reason="no longer Initech's administrator")
    assert not rules.decidable(admin, AccessRequest.objects.all()).exists()
    with pytest.raises(RequestRefused) as refused:
        services.approve(requests["member_own_record"], actor=admin)
    assert refused.value.code == RequestCode.NOT_APPROVER


def test_the_pages_menu_and_counts(world, requests):
    client = login(Client(), world["advanced1"])
    queue = client.get("/requests/queue/")
    assert queue.status_code == 200
    assert queue.content.decode().count('data-testid="queue-row"') == len(DECIDES)
    home = client.get("/").content.decode()
    assert 'href="/requests/queue/"' in home
    http = RequestFactory().get("/")
    http.user = world["advanced1"]
    assert worklist.requests_to_decide(http) == len(DECIDES)
    assert worklist.decides_requests(world["advanced1"])
    mine = requests["member_own_record"]
    assert client.get(f"/requests/{mine.pk}/").status_code == 200
    response = client.post(f"/requests/{mine.pk}/approve/", {"days": 7, "reason": ""})
    assert response.status_code == 302
    assert AccessRequest.objects.get(pk=mine.pk).status == AccessRequest.Status.APPROVED


@pytest.mark.parametrize("name", ["other_org_member", "member_other_org_record", "member_unowned_record"])
def test_requests_outside_their_organisation_are_404_on_every_page(world, requests, name):
    client = login(Client(), world["advanced1"])
    request = requests[name]
    assert client.get(f"/requests/{request.pk}/").status_code == 404
    assert client.post(f"/requests/{request.pk}/approve/", {"days": 7}).status_code == 404
    assert client.post(f"/requests/{request.pk}/deny/", {"reason": "no"}).status_code == 404
    assert AccessRequest.objects.get(pk=request.pk).status == AccessRequest.Status.PENDING


def test_their_own_request_is_refused_through_the_page(world, requests):
    client = login(Client(), world["advanced1"])
    own = requests["own"]
    client.post(f"/requests/{own.pk}/approve/", {"days": 7})
    assert AccessRequest.objects.get(pk=own.pk).status == AccessRequest.Status.PENDING
