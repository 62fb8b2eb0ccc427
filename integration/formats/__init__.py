"""The file formats: each reads uploads into neutral rows (``integration.rows``) and writes the tenant's state
back in its own shape (``integration.export``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from integration.formats import fxiaoke, native, salesforce, zoho

#: format key → (label, reader). A reader takes (uploads, mapping) and answers ``Parsed``.
READERS = {
    "portcullis": (_("Portcullis (CSV or JSON)"), native.read),
    "zoho": (_("Zoho CRM (users, profiles, roles)"), zoho.read),
    "salesforce": (_("Salesforce (users, roles, permission set assignments)"), salesforce.read),
    "fxiaoke": (_("Fxiaoke (员工, 角色)"), fxiaoke.read),
}


def choices() -> list[tuple[str, str]]:
    return [(key, label) for key, (label, _reader) in READERS.items()]
