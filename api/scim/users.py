"""SCIM Users (RFC 7643 §4.1): what a provider sends, read into the user's fields, and the operations
(create, replace, patch, deactivate) through the accounts services. The views and bulk share them.

The enterprise extension's ``organization`` is the user's organisation (``organisation_named``), changed
through the console's membership service (``set_user_organisation``: audited, its gates); the extension's
other attributes are accepted and not kept."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from accounts import services as accounts_services
from accounts.models import Organisation, User
from api.permissions import as_id
from api.scim import filters, patch
from api.scim.base import ENTERPRISE, USER, ScimError
from api.scim.render import check_if_match, user_json
from api.scim.services import Conflict, changes_anything, login_q, refuse_taken_user, update_scim_user
from permissions.models import BuiltinRole, Role
from permissions.services.organisations import set_user_organisation

SHAPE = patch.Shape(
    urn=USER,
    attributes={
        n.lower(): n for n in ("userName", "externalId", "displayName", "name", "emails", "active", "id", "schemas")
    },
    multi=frozenset({"emails"}),
    subs={
        "name": {"formatted": "formatted", "givenname": "givenName", "familyname": "familyName"},
        "emails": {"value": "value", "type": "type", "primary": "primary", "display": "display"},
    },
    kept={ENTERPRISE: {"organization": "organization"}},
)
#: ``sent_organisation``'s answer when the body does not name one: the user's organisation stays as it is.
KEEP = object()


def normalised_email(value: str) -> str:
    """An address as accounts keeps it (``User.objects.normalize_email`` then lower case)."""
    return User.objects.normalize_email(value).lower() if value else ""


FILTER = filters.Resource(
    urn=USER,
    attributes={
        "id": filters.Attr("pk", "id"),
        "username": filters.Attr(kind="login"),
        "externalid": filters.Attr("external_id", "exact"),
        "displayname": filters.Attr("full_name"),
        "name.formatted": filters.Attr("full_name"),
        "name.givenname": filters.Attr("given_name"),
        "name.familyname": filters.Attr("family_name"),
        "active": filters.Attr("is_active", "boolean"),
        "meta.created": filters.Attr("date_joined", "datetime"),
        "emails.value": filters.Attr("email", normalise=normalised_email),
        "emails": filters.Multi(
            {
                "value": filters.Attr("email", normalise=normalised_email),
                "type": filters.Attr(kind="constant", value="work"),
                "primary": filters.Attr(kind="constant", value=True),
            }
        ),
    },
    login=lambda lookup, value: _login_lookup(lookup, value),
)


def _login_lookup(lookup: str, value: str):
    from django.db.models import Q

    if lookup == "iexact":
        return login_q(value, normalised_email(value))
    sent = ~Q(scim_user_name="") & Q(**{f"scim_user_name__{lookup}": value})
    return sent | Q(scim_user_name="", **{f"email__{lookup}": value})


def _text(value, name: str, limit: int = 255) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScimError(400, f"{name} is a string", "invalidValue")
    if len(value) > limit:
        raise ScimError(400, f"{name} is at most {limit} characters", "invalidValue")
    return value.strip()


def boolean(value, name: str) -> bool:
    """A SCIM boolean: true/false, or the strings "true"/"false" (any case; Entra sends "False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ScimError(400, f"{name} is true or false", "invalidValue")


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def login_address(user_name: str, emails) -> str:
    """The login address: ``userName`` when it is an e-mail address, else the primary of ``emails``, else
    its first ``work`` address, else its first; ScimError when there is none."""
    if _is_email(user_name):
        return normalised_email(user_name)
    if emails is not None and not isinstance(emails, list):
        raise ScimError(400, "emails is a list", "invalidValue")
    values = [e for e in emails or [] if isinstance(e, dict) and isinstance(e.get("value"), str)]
    ordered = (
        [e for e in values if e.get("primary") in (True, "true", "True")]
        + [e for e in values if str(e.get("type", "")).lower() == "work"]
        + values
    )
    for each in ordered:
        if _is_email(each["value"].strip()):
            return normalised_email(each["value"].strip())
    raise ScimError(
        400,
        "No login address: userName is not an e-mail address and emails holds none. Send an e-mail address in "
        "userName or in emails (the primary one is used).",
        "invalidValue",
    )


def _name_parts(body: dict) -> dict:
    name = body.get("name")
    if name is None:
        return {}
    if not isinstance(name, dict):
        raise ScimError(400, "name is an object", "invalidValue")
    return {
        "formatted": _text(name.get("formatted"), "name.formatted", 200),
        "given": _text(name.get("givenName"), "name.givenName", 100),
        "family": _text(name.get("familyName"), "name.familyName", 100),
    }


def fields_of(body: dict, user: User | None = None, before: dict | None = None) -> dict:
    """The user's fields a representation describes. A new user's login address is chosen by
    ``login_address``; an existing user's stays (a PUT's ``emails`` are not read: providers send their
    own list back; a PATCH that changes them is refused by ``modify``), and ``userName`` may change.
    With ``before`` (a PATCH's starting representation), ``full_name`` follows whichever of displayName
    and name.formatted the patch changed."""
    user_name = _text(body.get("userName"), "userName")
    if not user_name:
        raise ScimError(400, "userName is required", "invalidValue")
    email = login_address(user_name, body.get("emails")) if user is None else user.email
    parts = _name_parts(body)
    display = _text(body.get("displayName"), "displayName", 200)
    if before is None:
        full_name = (
            display or parts.get("formatted") or " ".join(p for p in (parts.get("given"), parts.get("family")) if p)
        )
    elif display != _text(before.get("displayName"), "displayName", 200):
        full_name = display  # removed: no name
    elif parts.get("formatted", "") != _name_parts(before).get("formatted", ""):
        full_name = parts.get("formatted", "")
    else:
        full_name = display
    return {
        "email": email,
        "scim_user_name": "" if user_name == email else user_name,
        "external_id": _text(body.get("externalId"), "externalId"),
        "full_name": full_name[:200],
        "given_name": parts.get("given", ""),
        "family_name": parts.get("family", ""),
        "is_active": boolean(body.get("active", True), "active"),
    }


def organisation_named(value) -> Organisation | None:
    """The organisation ``organization`` names in this tenant: the one of that name (exactly), else the one
    with that external id (exactly); None for null or "". Anything else is a 400 ``invalidValue`` before
    anything is written. The tenant-scoped manager never sees another tenant's organisations."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScimError(400, "organization is a string", "invalidValue")
    value = value.strip()
    if not value:
        return None
    found = None
    if len(value) <= 200:
        found = (
            Organisation.objects.filter(name=value).first() or Organisation.objects.filter(external_id=value).first()
        )
    if found is None:
        raise ScimError(
            400, f"organization: no organisation is named {value[:100]!r} or has it as external id", "invalidValue"
        )
    return found


def _sent(body: dict) -> tuple[bool, object]:
    """(whether the body holds the extension's ``organization``, its value); keys in any case."""
    extension = next((v for k, v in body.items() if isinstance(k, str) and k.lower() == ENTERPRISE.lower()), None)
    if extension is None:
        return False, None
    if not isinstance(extension, dict):
        raise ScimError(400, f"{ENTERPRISE} is an object", "invalidValue")
    for key, value in extension.items():
        if isinstance(key, str) and key.lower() == "organization":
            return True, value
    return False, None


def sent_organisation(body: dict, before: dict | None = None):
    """The organisation a POST or PUT body names (``KEEP`` when it names none: not sent, the organisation is
    not asserted and stays; null or "" takes the user out of theirs). For a PATCH, ``before`` is the
    representation the operations started from: ``organization`` removed means none, unchanged ``KEEP``."""
    present, value = _sent(body)
    if before is None:
        return organisation_named(value) if present else KEEP
    if value == _sent(before)[1]:
        return KEEP
    return organisation_named(value)


def _moves(user: User, organisation) -> bool:
    return organisation is not KEEP and (organisation.pk if organisation else None) != user.organisation_id


def _addresses(emails) -> set[str]:
    if not isinstance(emails, list):
        return set()
    return {normalised_email(e["value"]) for e in emails if isinstance(e, dict) and isinstance(e.get("value"), str)}


def visible():
    """The tenant's users as SCIM resources: not those the provider deleted."""
    return User.objects.filter(scim_deleted=False).select_related("organisation")


def find(pk) -> User:
    user = visible().filter(pk=as_id(pk)).first() if as_id(pk) is not None else None
    if user is None:
        raise ScimError(404, f"User {str(pk)[:40]} not found")
    return user


def create(request, body) -> User:
    """A new user; or, for the login address of a user the provider deleted, that user provisioned again."""
    if not isinstance(body, dict):
        raise ScimError(400, "The body is a JSON object.", "invalidSyntax")
    fields = fields_of(body)
    organisation = sent_organisation(body)  # resolved (or refused) before anything is written
    deleted = User.objects.filter(email=fields["email"], scim_deleted=True).first()
    profile = {k: fields[k] for k in ("external_id", "scim_user_name", "given_name", "family_name")}
    try:
        refuse_taken_user(
            email=fields["email"],
            scim_user_name=fields["scim_user_name"],
            external_id=fields["external_id"],
            exclude=deleted.pk if deleted else None,
        )
        with transaction.atomic():
            if deleted is not None:
                changes = {**profile, "full_name": fields["full_name"], "is_active": fields["is_active"]}
                user = update_scim_user(deleted, actor=request.user, changes={**changes, "scim_deleted": False})
            else:
                user = accounts_services.create_user(
                    tenant=request.tenant,
                    email=fields["email"],
                    password=None,
                    role=Role.objects.get(key=BuiltinRole.BASIC),
                    full_name=fields["full_name"],
                    is_active=fields["is_active"],
                    actor=request.user,
                    profile=profile,
                )
            if _moves(user, organisation):
                set_user_organisation(user, organisation, actor=request.user, reason="SCIM")
            return user
    except (Conflict, IntegrityError) as error:
        raise ScimError(409, str(error) if isinstance(error, Conflict) else "userName is taken", "uniqueness") from None


def _change(request, user: User, fields: dict, organisation=KEEP) -> User:
    changes = {k: v for k, v in fields.items() if k != "email"}
    moves = _moves(user, organisation)
    if not moves and not changes_anything(user, changes):
        return user  # a resync that changes nothing: no transaction, no event
    try:
        with transaction.atomic():
            update_scim_user(user, actor=request.user, changes=changes)
            if moves:
                set_user_organisation(user, organisation, actor=request.user, reason="SCIM")
    except (Conflict, IntegrityError) as error:
        raise ScimError(409, str(error) if isinstance(error, Conflict) else "a value is taken", "uniqueness") from None
    return user  # the services changed this instance


def replace(request, pk, body) -> User:
    user = find(pk)
    check_if_match(request, user_json(user))
    if not isinstance(body, dict):
        raise ScimError(400, "The body is a JSON object.", "invalidSyntax")
    return _change(request, user, fields_of(body, user), sent_organisation(body))


def modify(request, pk, body) -> User:
    user = find(pk)
    current = user_json(user)
    check_if_match(request, current)
    ops = patch.operations(body)
    patched = patch.apply(current, ops, SHAPE)
    if _text(patched.get("id"), "id") != current["id"]:
        raise ScimError(400, "id cannot be changed", "mutability")
    if patched.get("active") is None:  # required: removing it must not read as the default (true)
        raise ScimError(400, "active cannot be removed", "mutability")
    if patched.get("emails") != current["emails"] and _addresses(patched.get("emails")) != {user.email}:
        raise ScimError(400, "emails holds the login address only, which cannot be changed over SCIM.", "mutability")
    fields = fields_of(patched, user, before=current)
    return _change(request, user, fields, sent_organisation(patched, before=current))


def delete(request, pk) -> None:
    """DELETE deactivates the user, who is then no SCIM resource any more (a 404; RFC 7644 §3.6 lets the
    service keep the account). Posting the same login address again provisions them again."""
    user = find(pk)
    check_if_match(request, user_json(user))
    with transaction.atomic():
        accounts_services.deactivate_user(user, actor=request.user, reason="SCIM: deprovisioned")
        update_scim_user(user, actor=request.user, changes={"scim_deleted": True}, reason="SCIM: deprovisioned")
