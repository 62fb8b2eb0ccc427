"""Zoho CRM: the users export (First Name, Last Name, Email, Role, Profile, Status, among others), the roles
export (Role Name, Reports To, Share Data with Peers, Description) and a profiles list (Profile Name,
Description). A profile is a Portcullis role; a Zoho role, which places a person in the record
hierarchy, is an organisation (its "Reports To" the parent)."""

from __future__ import annotations

from integration.formats.crm import add_user, unknown_file
from integration.rows import ORGANISATION, ROLE, Parsed, Upload, Where, csv_records, truthy

SOURCE = "Zoho CRM"


def read(uploads: list[Upload], mapping) -> Parsed:
    parsed = Parsed()
    for upload in uploads:
        headers, records = csv_records(upload)
        if "email" in headers and "profile" in headers:
            _users(upload, records, mapping, parsed)
        elif "role name" in headers:
            for line, r in records:
                parsed.add(
                    Where(upload.name, line),
                    ORGANISATION,
                    name=r.get("role name", ""),
                    external_id="",
                    parent=r.get("reports to", ""),
                )
        elif "profile name" in headers:
            for line, r in records:
                where = Where(upload.name, line)
                name = mapping.role_for(r.get("profile name", ""))
                parsed.add(where, ROLE, name=name, description=r.get("description", ""), matrix=None)
        else:
            unknown_file(parsed, upload.name, SOURCE)
    return parsed


def _users(upload, records, mapping, parsed) -> None:
    for line, r in records:
        status = r.get("status", "").lower()
        add_user(
            parsed,
            Where(upload.name, line),
            mapping,
            email=r.get("email", ""),
            full_name=" ".join(p for p in (r.get("first name", ""), r.get("last name", "")) if p),
            role=r.get("profile", ""),
            organisation=r.get("role", ""),
            active=truthy(status) and "deactiv" not in status and "inactive" not in status,
        )
