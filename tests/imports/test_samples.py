"""The sample files of docs/samples imported into a fresh tenant give exactly the users, organisations, roles,
grants and pending approvals docs/integration.md says; a dry run changes nothing; a second import changes
nothing more."""

import pytest

from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from tests.imports.kit import mapping, run, sample, state

EMPTY = {"users": {}, "organisations": {}, "roles": [], "grants": [], "pending": []}

ZOHO = {
    "users": {
        "ana.lima@example.com": ("Ana Lima", "Basic user", "CEO", False),
        "bo.chen@example.com": ("Bo Chen", "Advanced user", "Sales Manager", False),
        "carla.diaz@example.com": ("Carla Diaz", "Sales Rep", "Sales Representative", False),
    },
    "organisations": {"CEO": "", "Sales Manager": "CEO", "Sales Representative": "Sales Manager"},
    "roles": ["Sales Rep"],
    "grants": [],
    "pending": [("role_change", "ana.lima@example.com", "administrator")],
}

SALESFORCE = {
    "users": {
        "maria.rossi@acme.example": ("Maria Rossi", "Basic user", "CEO", False),
        "li.wei@acme.example": ("Wei Li", "Basic user", "Western Sales Team", False),
        "tom.baker@acme.example": ("Tom Baker", "Basic user", "Western Sales Team", False),
    },
    "organisations": {"CEO": "", "Western Sales Team": "CEO"},
    "roles": [],
    "grants": [
        ("li.wei@acme.example", "reports", ("view", "export"), ""),
        ("tom.baker@acme.example", "analytics", ("view",), ""),
        ("tom.baker@acme.example", "reports", ("view", "export"), "2027-06-30"),
    ],
    "pending": [("role_change", "maria.rossi@acme.example", "administrator")],
}

FXIAOKE = {
    "users": {
        "zhang.wei@example.cn": ("张伟", "销售经理", "华东销售部", False),
        "li.na@example.cn": ("李娜", "销售人员", "华东销售部", False),
    },
    "organisations": {"华东销售部": ""},
    "roles": sorted(["销售人员", "销售经理", "报表查看"]),
    "grants": [("li.na@example.cn", "reports", ("view",), "")],
    "pending": [],
}

CASES = {
    "zoho": (["zoho-roles.csv", "zoho-users.csv"], "zoho-mapping.txt", ZOHO),
    "salesforce": (
        ["salesforce-users.csv", "salesforce-roles.csv", "salesforce-permission-set-assignments.csv"],
        "salesforce-mapping.txt",
        SALESFORCE,
    ),
    "fxiaoke": (["fxiaoke-员工.csv", "fxiaoke-角色.csv"], "fxiaoke-mapping.txt", FXIAOKE),
}


@pytest.mark.parametrize("format_key", list(CASES))
def test_a_sample_imports_into_a_fresh_tenant_exactly(
    acme, acme_admin, format_key, mailoutbox, django_capture_on_commit_callbacks
):
    files, mapping_file, expected = CASES[format_key]
    uploads = [sample(name) for name in files]

    with django_capture_on_commit_callbacks(execute=True):
        preview = run(acme, acme_admin, uploads, format_key, mapping(mapping_file), dry_run=True)
    assert preview.problems == [] and not preview.applied
    assert state(acme) == EMPTY  # the dry run ran every service, then rolled everything back
    assert mailoutbox == []  # and no invitation went out

    with django_capture_on_commit_callbacks(execute=True):
        report = run(acme, acme_admin, uploads, format_key, mapping(mapping_file))
    assert report.problems == [] and report.applied
    assert state(acme) == expected
    assert {m.to[0] for m in mailoutbox} >= set(expected["users"])  # the invitations, once committed
    with tenant_scope(acme):
        applied = AuditEvent.objects.filter(event_type=EventType.IMPORT_APPLIED)
        assert applied.count() == 1
        assert AuditEvent.objects.filter(event_type=EventType.USER_INVITED).count() == len(expected["users"])

    again = run(acme, acme_admin, uploads, format_key, mapping(mapping_file))
    assert again.problems == [] and again.operations == []  # the tenant already holds what the files say
    assert state(acme) == expected


def test_the_preview_says_who_gains_what(acme, acme_admin):
    uploads = [sample("salesforce-users.csv"), sample("salesforce-permission-set-assignments.csv")]
    report = run(acme, acme_admin, uploads, "salesforce", mapping("salesforce-mapping.txt"), dry_run=True)
    effects = {email: (gains, loses) for email, gains, loses in report.effects}
    assert effects["tom.baker@acme.example"] == (
        ["Products · View", "Reports · View", "Reports · Export", "Analytics · View"],
        [],
    )
    summaries = [op.summary() for op in report.operations]
    assert "Invite li.wei@acme.example as Basic user" in summaries
    assert "Grant tom.baker@acme.example View, Export on Reports" in summaries


@pytest.mark.parametrize("name", ["portcullis.json", "portcullis.csv"])
def test_the_portcullis_samples_import_the_same(acme, acme_admin, name):
    report = run(acme, acme_admin, [sample(name)], "portcullis")
    assert report.problems == [] and report.applied
    assert state(acme) == {
        "users": {"peter.gibbons@initech.example": ("Peter Gibbons", "Analyst", "Initech Europe", False)},
        "organisations": {"Initech": "", "Initech Europe": "Initech"},
        "roles": ["Analyst"],
        "grants": [("peter.gibbons@initech.example", "products", ("view", "change"), "2027-03-31")],
        "pending": [],
    }


def test_fxiaoke_files_saved_as_gb18030_are_read(acme, acme_admin):
    from integration.rows import decode

    uploads = [decode(name, sample(name).text.encode("gb18030")) for name in ("fxiaoke-员工.csv", "fxiaoke-角色.csv")]
    report = run(acme, acme_admin, uploads, "fxiaoke", mapping("fxiaoke-mapping.txt"))
    assert report.applied and state(acme) == FXIAOKE
