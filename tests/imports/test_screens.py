"""The console's import screen: upload → preview (nothing changes) → apply; step-up; who may; limits; export."""

import json
import time

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from accounts.scoping import tenant_scope
from accounts.stepup import MFA_VERIFIED_AT
from audit.events import EventType
from audit.models import AuditEvent
from integration.rows import MAX_BYTES, MAX_ROWS
from tests.conftest import login
from tests.imports.kit import SAMPLES, state

URL = "/console/import/"


def _files(*names):
    return [SimpleUploadedFile(name, (SAMPLES / name).read_bytes(), content_type="text/csv") for name in names]


def _emails(tenant):
    with tenant_scope(tenant):
        return set(User.objects.values_list("email", flat=True))


def test_upload_preview_then_apply(acme, admin_client_acme):
    names = ("salesforce-users.csv", "salesforce-roles.csv", "salesforce-permission-set-assignments.csv")
    mapping = (SAMPLES / "salesforce-mapping.txt").read_text()
    response = admin_client_acme.post(URL, {"format": "salesforce", "files": _files(*names), "mapping": mapping})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Preview: nothing has changed yet" in page and "Invite li.wei@acme.example as Basic user" in page
    assert _emails(acme) == {"admin@acme.example"}
    digest = response.context["report"].digest

    response = admin_client_acme.post(f"{URL}apply/", {"digest": digest})
    assert response.status_code == 200
    assert (
        "Imported: 3 users, 0 roles, 2 organisations, 3 grants (1 waiting for approval)." in response.content.decode()
    )
    assert _emails(acme) == {
        "admin@acme.example",
        "maria.rossi@acme.example",
        "li.wei@acme.example",
        "tom.baker@acme.example",
    }
    again = admin_client_acme.post(f"{URL}apply/", {"digest": digest}, follow=True)  # the preview is spent
    assert "That preview is no longer available" in again.content.decode()


def test_a_bad_row_is_shown_with_its_line_and_nothing_can_be_applied(acme, admin_client_acme):
    bad = SimpleUploadedFile(
        "people.csv", b"record,email,role\nuser,ok@acme.example,Basic user\nuser,nope,Basic user\n"
    )
    response = admin_client_acme.post(URL, {"format": "portcullis", "files": [bad]})
    page = response.content.decode()
    assert "Nothing can be imported" in page and "“nope” is not an e-mail address." in page
    assert "Apply the import" not in page
    assert response.context["report"].problems[0].where.line == 3
    assert _emails(acme) == {"admin@acme.example"}


def test_a_stale_step_up_is_asked_again(admin_client_acme):
    session = admin_client_acme.session
    session[MFA_VERIFIED_AT] = time.time() - 3600
    session.save()
    response = admin_client_acme.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/step-up/")


def test_a_basic_user_may_not_import(acme_basic):
    client = login(Client(), acme_basic)
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}apply/", {"digest": "x"}).status_code == 403


def test_too_large_files_are_refused_with_a_clear_error(acme, admin_client_acme):
    big = SimpleUploadedFile("big.csv", b"record,email\n" + b"x" * MAX_BYTES)
    response = admin_client_acme.post(URL, {"format": "portcullis", "files": [big]})
    assert "The files are too large: at most 2048 KiB together." in response.content.decode()
    many = [SimpleUploadedFile(f"f{i}.csv", b"record\n") for i in range(6)]
    response = admin_client_acme.post(URL, {"format": "portcullis", "files": many})
    assert "At most 5 files at a time." in response.content.decode()
    assert _emails(acme) == {"admin@acme.example"}


def test_too_many_rows_are_refused_with_a_clear_error(acme, admin_client_acme):
    rows = "".join(f"user,u{i}@acme.example,Basic user\n" for i in range(MAX_ROWS + 1))
    upload = SimpleUploadedFile("many.csv", ("record,email,role\n" + rows).encode())
    response = admin_client_acme.post(URL, {"format": "portcullis", "files": [upload]})
    assert "More than 5000 rows: split the file." in response.content.decode()
    assert _emails(acme) == {"admin@acme.example"}


def test_the_screen_in_chinese(acme_admin, admin_client_acme):
    from accounts.services import set_language

    set_language(acme_admin, "zh-hans")
    page = admin_client_acme.get(URL).content.decode()
    assert "<h1>导入和导出</h1>" in page and "预览导入" in page


def test_export_downloads_what_import_reads_back(acme, acme_admin, admin_client_acme):
    from tests.imports.kit import run, sample

    run(acme, acme_admin, [sample("portcullis.json")], "portcullis")
    before = state(acme)
    response = admin_client_acme.post(f"{URL}export/", {"export-format": "portcullis-json"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    assert {
        "email": "peter.gibbons@initech.example",
        "full_name": "Peter Gibbons",
        "role": "Analyst",
        "organisation": "Initech Europe",
        "active": True,  # invited: not deactivated
    } in document["users"]
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(event_type=EventType.EXPORTED).count() == 1
    from integration.rows import Upload

    report = run(acme, acme_admin, [Upload("export.json", response.content.decode())], "portcullis")
    assert report.problems == [] and report.operations == []  # the round trip changes nothing
    assert state(acme) == before


def test_crm_exports_have_the_crm_columns(admin_client_acme):
    expected = {
        "zoho": "First Name,Last Name,Email,Role,Profile,Status",
        "salesforce": "Username,FirstName,LastName,Email,IsActive,Profile.Name,UserRole.Name",
        "fxiaoke": "姓名,手机号,邮箱,主属部门,角色,状态",
        "portcullis-csv": "record,email,full_name,role,organisation,active,name,parent,external_id,description,matrix",
    }
    for key, header in expected.items():
        response = admin_client_acme.post(f"{URL}export/", {"export-format": key})
        assert response.content.decode("utf-8-sig").startswith(header), key
