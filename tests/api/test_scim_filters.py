"""SCIM filters (RFC 7644 §3.4.2.2): every operator on every supported attribute, and/or/not/grouping, value
paths, into tenant-scoped queries; what cannot be served is a 400 invalidFilter, never a 500 (also for
random input); a filtered listing pages in constant queries."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from accounts.scoping import tenant_scope
from api.scim import filters
from api.scim import groups as scim_groups
from api.scim import users as scim_users
from permissions.models import Group
from permissions.services import groups as group_services
from tests.api.scimkit import error_of
from tests.factories import UserFactory
from tests.querycount import assert_constant_queries


@pytest.fixture
def people(acme, acme_admin, globex):
    """Three Acme users besides the administrator, and a Globex user matching every filter below."""
    with tenant_scope(acme):
        User.objects.filter(pk=acme_admin.pk).update(full_name="")
        ann = _with(UserFactory(tenant=acme, email="ann@acme.example", full_name="Ann Archer"), external_id="EXT-1")
        _with(ann, given_name="Ann", family_name="Archer")
        bob = _with(UserFactory(tenant=acme, email="bob@acme.example", full_name="Bob Baker"), scim_user_name="bbaker")
        cid = _with(
            UserFactory(tenant=acme, email="cid@corp.example", full_name="", is_active=False), external_id="ext-2"
        )
        User.objects.filter(pk=cid.pk).update(date_joined=cid.date_joined - timedelta(days=30))
        cid.refresh_from_db()
    with tenant_scope(globex):
        _with(UserFactory(tenant=globex, email="ann@acme.example", full_name="Ann Archer"), external_id="EXT-1")
    return {"admin": acme_admin, "ann": ann, "bob": bob, "cid": cid}


def _with(user, **fields):
    User.objects.filter(pk=user.pk).update(**fields)
    user.refresh_from_db()
    return user


def _found(scim, text: str) -> set[str]:
    response = scim.get("/scim/v2/Users?count=200&filter=" + quote(text))
    assert response.status_code == 200, response.content[:300]
    return {r["userName"] for r in response.json()["Resources"]}


ALL = {"admin@acme.example", "ann@acme.example", "bbaker", "cid@corp.example"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "ANN@acme.example"', {"ann@acme.example"}),
        ('userName eq "BBaker"', {"bbaker"}),
        ('userName eq "bob@acme.example"', set()),  # bob's userName is bbaker (his login address is not it)
        ('userName ne "ann@acme.example"', ALL - {"ann@acme.example"}),
        ('userName co "acme"', {"admin@acme.example", "ann@acme.example"}),
        ('userName sw "b"', {"bbaker"}),
        ('userName ew ".EXAMPLE"', ALL - {"bbaker"}),
        ('userName gt "b"', {"bbaker", "cid@corp.example"}),
        ('userName ge "bbaker"', {"bbaker", "cid@corp.example"}),
        ('userName lt "ann@acme.example"', {"admin@acme.example"}),
        ('userName le "ann@acme.example"', {"admin@acme.example", "ann@acme.example"}),
        ("userName pr", ALL),
        ('externalId eq "EXT-1"', {"ann@acme.example"}),
        ('externalId eq "ext-1"', set()),  # caseExact
        ("externalId pr", {"ann@acme.example", "cid@corp.example"}),
        ('externalId sw "ext"', {"cid@corp.example"}),
        ('displayName eq "ann archer"', {"ann@acme.example"}),
        ('displayName co "a"', {"ann@acme.example", "bbaker"}),
        ("displayName pr", {"ann@acme.example", "bbaker"}),
        ('name.givenName eq "Ann"', {"ann@acme.example"}),
        ('name.familyName ew "cher"', {"ann@acme.example"}),
        ("active eq false", {"cid@corp.example"}),
        ("active ne false", ALL - {"cid@corp.example"}),
        ('emails.value eq "BOB@acme.example"', {"bbaker"}),
        ('emails co "corp"', {"cid@corp.example"}),
        ('emails[type eq "work" and value sw "ann"]', {"ann@acme.example"}),
        ('emails[type eq "home"]', set()),
        ('emails[type eq "work"].value eq "bob@acme.example"', {"bbaker"}),  # Entra's form
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bbaker"', {"bbaker"}),
        ('meta.created lt "2100-01-01T00:00:00Z"', ALL),
        ('userName sw "a" and active eq true', {"admin@acme.example", "ann@acme.example"}),
        ('userName eq "bbaker" or externalId eq "ext-2"', {"bbaker", "cid@corp.example"}),
        ('not (userName co "acme") and (active eq true or externalId pr)', {"bbaker", "cid@corp.example"}),
        ("not(active eq true)", {"cid@corp.example"}),
    ],
)
def test_every_operator_on_the_users_attributes(scim, people, text, expected):
    assert _found(scim, text) == expected


def test_id_and_meta_created(scim, people):
    ann, cid = people["ann"], people["cid"]
    assert _found(scim, f'id eq "{ann.pk}"') == {"ann@acme.example"}
    assert _found(scim, 'id eq "not-a-number"') == set()
    cut = (cid.date_joined + timedelta(days=1)).isoformat()
    assert _found(scim, f'meta.created lt "{cut}"') == {"cid@corp.example"}


def test_group_filters_members_and_external_id(scim, acme, acme_admin, people):
    with tenant_scope(acme):
        team = group_services.create_group(actor=None, tenant=acme, name="Sales", kind=Group.Kind.TEAM)
        Group.objects.filter(pk=team.pk).update(external_id="G-1")
        group_services.add_member(team, people["ann"], actor=None)
        group_services.create_group(actor=None, tenant=acme, name="Empty", kind=Group.Kind.TEAM)

    def names(text):
        response = scim.get("/scim/v2/Groups?filter=" + quote(text))
        assert response.status_code == 200, response.content[:300]
        return {r["displayName"] for r in response.json()["Resources"]}

    ann = people["ann"].pk
    assert names(f'members.value eq "{ann}"') == {"Sales"}
    assert names(f'members[value eq "{ann}"]') == {"Sales"}
    assert names(f'members eq "{ann}"') == {"Sales"}
    assert names('members[display co "ann@"]') == {"Sales"}
    assert names("members pr") == {"Sales"}
    assert names("not (members pr)") == {"Empty"}
    assert names('externalId eq "G-1" and displayName sw "sa"') == {"Sales"}
    assert names('displayName ne "Sales"') == {"Empty"}


def test_another_tenants_rows_never_match(scim, people, globex):
    stranger = UserFactory(tenant=globex, email="x@globex.example")
    assert _found(scim, 'userName eq "x@globex.example"') == set()
    assert _found(scim, f'id eq "{stranger.pk}"') == set()
    assert len(_found(scim, "userName pr")) == 4  # Globex's own "ann@acme.example" is not Acme's


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "a\\x"',  # a bad escape was a 500
        'userName eq "unterminated',
        "userName eq",
        "userName",
        '(userName eq "a"',
        'userName eq "a")',
        'userName xx "a"',
        'nickName eq "a"',
        'meta.lastModified gt "2020-01-01T00:00:00Z"',
        'name.middleName eq "a"',
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"',
        "active gt true",
        'active eq "true"',
        "userName eq true",
        "userName eq 12",
        "userName eq null",
        'id co "1"',
        "id eq 1",
        'meta.created eq "yesterday"',
        'meta.created co "2020"',
        'emails[value eq "a"] and emails[type eq "work"].value[x eq "y"]',
        'emails[type eq "work" and emails[value eq "x"]]',
        'userName[value eq "x"]',
        "not userName pr",
        " or ".join(['not (userName eq "a")'] * 5) + " and " + "not (" * 33 + "userName pr" + ")" * 33,
        'userName eq "a\\u0000"',
        "",
    ],
)
def test_filters_it_cannot_serve_are_invalid_filter(scim, text):
    if not text:
        assert scim.get("/scim/v2/Users?filter=").status_code == 200  # an empty filter is no filter
        return
    error_of(scim.get("/scim/v2/Users?filter=" + quote(text)), 400, "invalidFilter")


def test_a_filter_longer_than_the_limit_is_refused_before_parsing():
    with pytest.raises(filters.InvalidFilter):
        filters.to_q('userName eq "' + "a" * filters.MAX_LENGTH + '"', scim_users.FILTER)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(
            [*'ab "()[].\\:-_01 ', "eq", "ne", "co", "pr", "gt", "and", "or", "not", "userName", "members"]
        ),
        max_size=30,
    ).map("".join)
    | st.text(max_size=60)
)
def test_any_input_is_a_query_or_invalid_filter_never_an_error(acme, text):
    """Random text through the parser and the database: it either runs or is InvalidFilter."""
    for resource, model in ((scim_users.FILTER, User), (scim_groups.FILTER, Group)):
        with tenant_scope(acme):  # userName eq looks its ids up first: in the scope too
            try:
                q = filters.to_q(text, resource)
            except filters.InvalidFilter:
                continue
            list(model.objects.filter(q)[:5])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    attribute=st.sampled_from(
        ["userName", "externalId", "displayName", "active", "emails.value", "name.givenName", "id", "meta.created"]
    ),
    op=st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]),
    value=st.one_of(st.text(max_size=10), st.booleans(), st.integers(), st.none()),
    negate=st.booleans(),
)
def test_every_attribute_with_every_operator_and_value_type(acme, attribute, op, value, negate):
    import json

    text = f"{attribute} {op} {json.dumps(value)}"
    text = f"not ({text})" if negate else text
    with tenant_scope(acme):
        try:
            q = filters.to_q(text, scim_users.FILTER)
        except filters.InvalidFilter:
            return
        list(User.objects.filter(q)[:5])


def test_a_filtered_listing_pages_in_constant_queries(scim, acme, acme_admin):
    def grow():
        with tenant_scope(acme):
            team = Group.objects.get(name="Everyone")
            for n in range(60):
                user = UserFactory(tenant=acme, email=f"grown{n}-{User.objects.count()}@acme.example")
                group_services.add_member(team, user, actor=None)

    with tenant_scope(acme):
        team = group_services.create_group(actor=None, tenant=acme, name="Everyone", kind=Group.Kind.TEAM)
        group_services.add_member(team, UserFactory(tenant=acme, email="first@acme.example"), actor=None)
    url = "/scim/v2/Users?count=50&filter=" + quote('userName co "@acme" and active eq true')
    assert_constant_queries(scim, url, grow)
    assert_constant_queries(scim, "/scim/v2/Groups?filter=" + quote("members pr"), grow)
