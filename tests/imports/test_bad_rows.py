"""One bad row: nothing is imported, and the row is named by file and line (found when reading, when checking
against the tenant, or refused by a service while applying)."""

from accounts.models import User
from accounts.scoping import tenant_scope
from audit.events import EventType
from audit.models import AuditEvent
from integration.rows import Upload
from tests.imports.kit import mapping, problems, run, sample, state

EMPTY = {"users": {}, "organisations": {}, "roles": [], "grants": [], "pending": []}


def _with_line(upload: Upload, line: int, text: str) -> Upload:
    lines = upload.text.splitlines()
    lines[line - 1] = text
    return Upload(upload.name, "\n".join(lines) + "\n")


def _nothing_applied(tenant):
    assert state(tenant) == EMPTY
    with tenant_scope(tenant):
        assert not AuditEvent.objects.filter(event_type=EventType.IMPORT_APPLIED).exists()
        assert not AuditEvent.objects.filter(event_type=EventType.USER_INVITED).exists()


def test_a_bad_email_in_the_zoho_users_file_imports_nothing(
    acme, acme_admin, mailoutbox, django_capture_on_commit_callbacks
):
    users = _with_line(
        sample("zoho-users.csv"), 3, "Bo,Chen,bo.chen-at-example.com,,,Sales Manager,Standard,Active,UTC,English"
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = run(acme, acme_admin, [sample("zoho-roles.csv"), users], "zoho", mapping("zoho-mapping.txt"))
    assert not report.applied
    assert problems(report) == [("zoho-users.csv", 3)]
    assert "bo.chen-at-example.com" in report.problems[0].message
    _nothing_applied(acme)
    assert mailoutbox == []  # no invitation left either


def test_an_unmapped_permission_set_names_its_line(acme, acme_admin):
    uploads = [sample("salesforce-users.csv"), sample("salesforce-permission-set-assignments.csv")]
    no_analytics = mapping("salesforce-mapping.txt").replace("Analytics_Viewer = analytics: view", "")
    report = run(acme, acme_admin, uploads, "salesforce", no_analytics)
    assert problems(report) == [("salesforce-permission-set-assignments.csv", 5)]
    assert "Analytics_Viewer" in report.problems[0].message
    _nothing_applied(acme)


def test_a_row_a_service_refuses_while_applying_imports_nothing(acme, acme_admin):
    """The last row grants the importer themself something: the grant service refuses (nobody grants themselves
    anything), after the organisations, role and user rows were already written in the transaction."""
    text = sample("portcullis.csv").text + "grant,admin@acme.example,,,,,,,,,,reports,view,,Self\n"
    report = run(acme, acme_admin, [Upload("portcullis.csv", text)], "portcullis")
    assert not report.applied
    assert problems(report) == [("portcullis.csv", 7)]
    assert report.problems[0].message == "Nobody can grant themselves anything."
    _nothing_applied(acme)


def test_json_rows_are_named_by_their_line(acme, acme_admin):
    text = sample("portcullis.json").text.replace('"module": "products"', '"module": "warehouse"')
    report = run(acme, acme_admin, [Upload("portcullis.json", text)], "portcullis")
    assert problems(report) == [("portcullis.json", 15)]
    assert report.problems[0].message == "There is no module “warehouse”."
    _nothing_applied(acme)


def test_the_import_of_an_organisation_loop_is_refused(acme, acme_admin):
    text = "record,name,parent\norganisation,North,South\norganisation,South,North\n"
    report = run(acme, acme_admin, [Upload("loop.csv", text)], "portcullis")
    assert problems(report) == [("loop.csv", 2), ("loop.csv", 3)]
    _nothing_applied(acme)


def test_someone_without_rights_imports_nothing(acme, acme_admin, acme_basic):
    report = run(acme, acme_basic, [sample("portcullis.csv")], "portcullis")
    assert not report.applied and report.problems
    assert {p.message for p in report.problems} >= {"You are not allowed to do this."}
    with tenant_scope(acme):
        assert set(User.objects.values_list("email", flat=True)) == {"admin@acme.example", "basic1@acme.example"}


def test_a_separation_of_duties_rule_refuses_the_row_that_breaks_it(acme, acme_admin):
    """Two rows of one person: payments create and payments approve. The rule refuses the second grant (the
    gate of the grant service), so nothing of the file is applied, the first grant included."""
    from tests.sodkit import make_payments, no_self_approval_rule

    no_self_approval_rule(acme, acme_admin, make_payments(acme))
    text = (
        "record,email,role,module,actions,reason\n"
        "user,pat@acme.example,Basic user,,,\n"
        "grant,pat@acme.example,,payments,create,Clerk\n"
        "grant,pat@acme.example,,payments,approve,Approver\n"
    )
    report = run(acme, acme_admin, [Upload("payments.csv", text)], "portcullis")
    assert problems(report) == [("payments.csv", 4)]
    assert "No self-approved payments" in report.problems[0].message
    _nothing_applied(acme)
