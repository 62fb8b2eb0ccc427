"""Salesforce, as Data Loader exports it (relationship fields as ``Profile.Name``; headers compared without
case): users (Id, Username, FirstName, LastName, Email, IsActive, Profile.Name, UserRole.Name), roles
(UserRole: Id, Name, ParentRoleId) and permission set assignments (AssigneeId or Assignee.Email,
PermissionSet.Name, PermissionSet.IsOwnedByProfile, ExpirationDate). A profile is a Portcullis role, a
UserRole an organisation, an assignment the grants its permission set is mapped to."""

from __future__ import annotations

from django.utils.translation import gettext as _

from integration.formats.crm import add_rights, add_user, unknown_file
from integration.rows import ORGANISATION, Parsed, Upload, Where, csv_records, truthy

SOURCE = "Salesforce"


def _id(value: str) -> str:
    return (value or "")[:15]  # 15- and 18-character ids of one record share their first 15 characters


def read(uploads: list[Upload], mapping) -> Parsed:
    parsed = Parsed()
    files = [(upload, *csv_records(upload)) for upload in uploads]
    emails: dict[str, str] = {}
    role_names = {}
    for _upload, headers, records in files:  # the ids other files refer to
        if "username" in headers and "email" in headers and "id" in headers:
            emails.update({_id(r.get("id", "")): r.get("email", "") for _line, r in records})
        if "parentroleid" in headers:
            role_names.update({_id(r.get("id", "")): r.get("name", "") for _line, r in records})
    for upload, headers, records in files:
        if "username" in headers and "email" in headers:
            for line, r in records:
                add_user(
                    parsed,
                    Where(upload.name, line),
                    mapping,
                    email=r.get("email", ""),
                    full_name=" ".join(p for p in (r.get("firstname", ""), r.get("lastname", "")) if p),
                    role=r.get("profile.name", ""),
                    organisation=r.get("userrole.name", ""),
                    active=truthy(r.get("isactive")),
                )
        elif "parentroleid" in headers:
            for line, r in records:
                parent = role_names.get(_id(r.get("parentroleid", "")), "")
                parsed.add(
                    Where(upload.name, line), ORGANISATION, name=r.get("name", ""), external_id="", parent=parent
                )
        elif "permissionset.name" in headers:
            _assignments(upload, records, mapping, emails, parsed)
        else:
            unknown_file(parsed, upload.name, SOURCE)
    return parsed


def _assignments(upload, records, mapping, emails, parsed) -> None:
    for line, r in records:
        where = Where(upload.name, line)
        if truthy(r.get("permissionset.isownedbyprofile"), default=False):
            continue  # a profile's own permission set: the profile is the user's role already
        email = r.get("assignee.email") or emails.get(_id(r.get("assigneeid", "")), "")
        if not email:
            parsed.problem(where, _("The assignee is not among the exported users (add Assignee.Email)."))
            continue
        expires = r.get("expirationdate", "")
        add_rights(
            parsed, where, mapping, email=email, name=r.get("permissionset.name", ""), expires_at=expires, source=SOURCE
        )
