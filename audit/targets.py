"""An event's target as a person reads it: the object's name today, in the reader's language, with a link.

The log keeps the target's type, id and label as recorded (signed; the label is the text of the time, in the
language of whoever acted). The viewer shows the object's current name instead (a built-in role or module in
the reader's language, a review item by its campaign, a grant by what and whom it gives), one query per type
on the page, and links it to its page. A target that no longer exists shows its recorded label, unless that
label is an internal reference (``2:grant:7``): then the kind of object. People's names stay the recorded
(erasable) label, linked to the person.
"""

from __future__ import annotations

import re
from collections import defaultdict

from django.apps import apps
from django.urls import reverse
from django.utils.translation import gettext as _

from api.input import as_ascii_id

INTERNAL_LABEL = re.compile(r"^[\w.]*\d+[:/@][\w:./@-]*$|^#\d+$|\{")


def _grant(grant) -> str:
    what = grant.resource.title if grant.resource_id else str(grant.module.display_name)
    holder = grant.group.name if grant.group_id else (grant.user.full_name or grant.user.email)
    return _("Access to %(what)s for %(holder)s") % {"what": what, "holder": holder}


def _grant_url(grant) -> str:
    if grant.group_id:
        return reverse("console:group", kwargs={"group_id": grant.group_id})
    return reverse("console:user", kwargs={"user_id": grant.user_id})


def _item(item) -> str:
    return _("An item of the review “%(campaign)s”") % {"campaign": item.campaign.name}


# type → (related rows to load, name of a row, URL of a row)
TARGETS = {
    "permissions.grant": (("module", "resource", "user", "group"), _grant, _grant_url),
    "permissions.role": ((), lambda r: str(r.display_name), lambda r: reverse("console:role", args=[r.pk])),
    "permissions.module": ((), lambda m: str(m.display_name), lambda m: reverse("console:module", args=[m.pk])),
    "permissions.resource": ((), lambda r: r.title, lambda r: reverse("console:resource", args=[r.pk])),
    "permissions.group": ((), lambda g: g.name, lambda g: reverse("console:group", args=[g.pk])),
    "permissions.pendingchange": ((), lambda c: str(c.summary), lambda c: reverse("console:approval", args=[c.pk])),
    "accounts.organisation": ((), lambda o: o.name, lambda o: reverse("console:organisation", args=[o.pk])),
    "reviews.reviewcampaign": ((), lambda c: c.name, lambda c: reverse("reviews:campaign", args=[c.pk])),
    "reviews.reviewitem": (("campaign",), _item, lambda i: reverse("reviews:campaign", args=[i.campaign_id])),
    "accessrequests.accessrequest": (
        (),
        lambda r: _("Access request #%(id)s") % {"id": r.pk},
        lambda r: reverse("accessrequests:detail", args=[r.pk]),
    ),
    "appeals.case": (
        (),
        lambda c: _("Case #%(id)s: %(subject)s") % {"id": c.pk, "subject": c.subject},
        lambda c: reverse("appeals:detail", args=[c.pk]),
    ),
}
PEOPLE = {"accounts.user": lambda pk: reverse("console:user", args=[pk])}


def kind_of(target_type: str) -> str:
    """A target type as words ("permissions.grant" → "grant", translated); '' when unknown."""
    try:
        return str(apps.get_model(target_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return ""


def attach_targets(events) -> list:
    """Set ``target_name`` and ``target_url`` on each event (call inside the tenant's scope)."""
    events = list(events)
    wanted = defaultdict(set)
    for event in events:
        pk = as_ascii_id(str(event.target_id)) if event.target_type in TARGETS else None
        if pk is not None:
            wanted[event.target_type].add(pk)
    found = {}
    for target_type, ids in wanted.items():
        related, _name, _url = TARGETS[target_type]
        model = apps.get_model(target_type)
        for row in model.objects.filter(pk__in=ids).select_related(*related):
            found[target_type, str(row.pk)] = row
    for event in events:
        row = found.get((event.target_type, str(event.target_id)))
        if row is not None:
            _related, name, url = TARGETS[event.target_type]
            event.target_name, event.target_url = name(row), url(row)
            continue
        label = event.target_label
        if event.target_type in PEOPLE and as_ascii_id(str(event.target_id)) is not None:
            event.target_name, event.target_url = label, PEOPLE[event.target_type](event.target_id)
            continue
        event.target_url = ""
        event.target_name = label if label and not INTERNAL_LABEL.search(label) else kind_of(event.target_type)
    return events
