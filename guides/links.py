"""Which guide (and which part of it) helps on the page at hand: the header's "How do reviews work?" link.

Decided from the page's URL name alone (``request.resolver_match``), so it costs nothing; on the home page
and the guides themselves, from the reader's persona (two cached engine checks).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

PERSONAS = ("administrator", "reviewer", "customer")
TITLES = {
    "administrator": _("Administrator's guide"),
    "reviewer": _("Reviewer's guide"),
    "customer": _("Customer's guide"),
}


@dataclass(frozen=True)
class Topic:
    guide: str  # a persona of PERSONAS, or "" for the reader's own
    anchor: str
    label: str | Promise


REVIEWS_FOR_REVIEWERS = Topic("reviewer", "reviews", _("How do reviews work?"))
REVIEWS_FOR_ADMINISTRATORS = Topic("administrator", "reviews", _("How do reviews work?"))
CONSOLE = Topic("administrator", "console", _("How does the console work?"))
#: URL namespace → the topic of its pages (a URL name listed in BY_NAME wins).
BY_NAMESPACE = {
    "reviews": REVIEWS_FOR_ADMINISTRATORS,
    "console": CONSOLE,
    "webhooks": CONSOLE,
    "sso_console": CONSOLE,
    "intelligence": Topic("administrator", "governance", _("How does governance work?")),
    "dormancy": Topic("administrator", "governance", _("How does governance work?")),
    "audit": Topic("administrator", "audit", _("How does the audit trail work?")),
    "accessrequests": Topic("customer", "requests", _("How does asking for access work?")),
    "appeals": Topic("customer", "notices", _("What if I lose access?")),
    "training": Topic("customer", "training", _("How do security lessons work?")),
    "accounts": Topic("customer", "account", _("How do I keep my account safe?")),
    "workspace": Topic("customer", "workspace", _("How does my workspace work?")),
    "guides": Topic("", "", _("All guides")),
}
BY_NAME = {
    "reviews:mine": REVIEWS_FOR_REVIEWERS,
    "reviews:bulk": REVIEWS_FOR_REVIEWERS,
    "reviews:delegations": REVIEWS_FOR_REVIEWERS,
    "reviews:delegation_end": REVIEWS_FOR_REVIEWERS,
    "accessrequests:queue": Topic("administrator", "requests", _("How does asking for access work?")),
    "appeals:queue": Topic("administrator", "governance", _("How does governance work?")),
    "workspace:my_access": Topic("customer", "access", _("Where does access come from?")),
}
HOME = Topic("", "start", _("How does Portcullis work?"))


def guide_for(user) -> str:
    """The reader's persona: administrator (may see the users), reviewer (may review access), else customer."""
    from permissions import engine
    from permissions.vocabulary import Action, SystemModule

    if engine.can(user, Action.VIEW, SystemModule.USERS):
        return "administrator"
    if engine.can(user, Action.REVIEW, SystemModule.REVIEWS):
        return "reviewer"
    return "customer"


def topic_for(request) -> Topic:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return BY_NAMESPACE["guides"]  # an error page: every guide, without asking the engine anything
    return BY_NAME.get(match.view_name) or BY_NAMESPACE.get(match.namespace) or HOME


def help_link(request) -> dict | None:
    """{"url", "label", "guide"} of the help for the page being shown, or None for someone not signed in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "tenant_id", None):
        return None
    if getattr(request, "mfa_pending", False):
        return None  # a password-only session sees only the MFA step
    topic = topic_for(request)
    if topic.guide == "" and topic.anchor == "":
        return {"url": reverse("guides:index"), "label": topic.label, "guide": "index"}
    guide = topic.guide or guide_for(user)
    url = reverse(f"guides:{guide}") + (f"#{topic.anchor}" if topic.anchor else "")
    return {"url": url, "label": topic.label, "guide": guide}
