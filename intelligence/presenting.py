"""Every number of access intelligence in words, in the reader's language (stored reasons hold numbers
only; the words are made here, at reading time)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def percent(value: float) -> int:
    """A share as a whole percentage."""
    return round(float(value) * 100)


def use_text(idle_days) -> str:
    """When the right was last used, in words."""
    if idle_days is None:
        return _("never used")
    days = int(idle_days)
    if days < 1:
        return _("used today")
    return ngettext("not used in %(days)d day", "not used in %(days)d days", days) % {"days": days}


def peers_text(holding: int, peers: int, organisation: str = "", role: str = "") -> str:
    """ "held by 2 of 48 colleagues at Initech in role Analyst"."""
    values = {"k": holding, "n": peers, "org": organisation, "role": role}
    if organisation and role:
        return (
            ngettext(
                "held by %(k)d of %(n)d colleague at %(org)s in role %(role)s",
                "held by %(k)d of %(n)d colleagues at %(org)s in role %(role)s",
                peers,
            )
            % values
        )
    if role:
        return (
            ngettext(
                "held by %(k)d of %(n)d colleague in role %(role)s",
                "held by %(k)d of %(n)d colleagues in role %(role)s",
                peers,
            )
            % values
        )
    return ngettext("held by %(k)d of %(n)d peer", "held by %(k)d of %(n)d peers", peers) % values


def outlier_reason(holding: int, peers: int, organisation: str, role: str, idle_days) -> str:
    """The reason a right makes a user an outlier."""
    return _("%(peers)s; %(use)s.") % {
        "peers": peers_text(holding, peers, organisation, role),
        "use": use_text(idle_days),
    }


def score_text(score: float, holding: int, peers: int) -> str:
    """How the outlier score is computed, with its numbers."""
    return _(
        "Score %(score)d %%: 100 %% minus the expected share of peers holding it, (%(k)d + 1) / (%(n)d + 2); "
        "higher means more unusual."
    ) % {"score": percent(score), "k": holding, "n": peers}


def proposal_text(reason: dict) -> str:
    """Why a right-sizing proposal is made, with its numbers."""
    if not reason:
        return ""
    values = {
        "k": reason.get("holding", 0),
        "n": reason.get("peers", 0),
        "role": reason.get("role", ""),
        "size": reason.get("bundle_size", 0),
        "held": reason.get("bundle_held", 0),
        "use": use_text(reason.get("idle_days")),
    }
    if reason.get("kind") == "add":
        return (
            _(
                "%(k)d of %(n)d users holding the same bundle of %(size)d rights hold this one; this user holds "
                "%(held)d of the %(size)d but not this one."
            )
            % values
        )
    return (
        _(
            "No bundle of rights this user shares with others includes it; %(k)d of %(n)d comparable users (role "
            "%(role)s, same bundles) hold it; %(use)s."
        )
        % values
    )


def confidence_text(reason: dict) -> str:
    """How the confidence of a proposal is computed."""
    if not reason:
        return ""
    values = {"c": percent(reason.get("confidence", 0)), "k": reason.get("holding", 0), "n": reason.get("peers", 0)}
    if reason.get("kind") == "add":
        values.update(size=reason.get("bundle_size", 0), held=reason.get("bundle_held", 0))
        return (
            _(
                "Confidence %(c)d %%: the expected share of the bundle's holders with this right, (%(k)d + 1) / "
                "(%(n)d + 2), times the share of the bundle the user holds, %(held)d / %(size)d."
            )
            % values
        )
    return (
        _(
            "Confidence %(c)d %%: 100 %% minus the expected share of comparable users holding it, (%(k)d + 1) / "
            "(%(n)d + 2); lowered when the right was used recently or when reviewers disagreed with such proposals."
        )
        % values
    )


def _action_name(value: str) -> str:
    from permissions.vocabulary import Action

    return str(Action(value).label) if value in Action.values else value


def proposal_evidence_text(shown: dict | None) -> str:
    """The line a review item shows for a stored proposal on its access (empty without one)."""
    if not shown:
        return ""
    return _("Access intelligence proposes removing %(action)s (confidence %(c)d %%): %(why)s") % {
        "action": _action_name(shown.get("action", "")),
        "c": percent(shown.get("confidence", 0)),
        "why": proposal_text(shown.get("reason") or {}),
    }


def alert_text(kind: str, detail: dict, action: str) -> str:
    """Why an alert was raised, with its numbers (the action by its name in the reader's language)."""
    detail = detail or {}
    action = _action_name(action)
    if kind == "burst":
        return _(
            "%(count)d uses of %(action)s today, above the usual ceiling of %(threshold)s (median + 6 × median "
            "absolute deviation of the last %(days)d days)."
        ) % {"count": detail.get("count", 0), "action": action, "threshold": detail.get("threshold", 0),
             "days": detail.get("days", 28)}  # fmt: skip
    if kind == "odd_hour":
        return _(
            "Used at %(hour)02d:00 UTC; this user had not used %(action)s within an hour of that time in the last "
            "%(days)d days."
        ) % {"hour": detail.get("hour", 0), "action": action, "days": detail.get("days", 28)}
    values = {"action": action, "peers": detail.get("peers", 0), "days": detail.get("days", 90)}
    text = _(
        "First use of %(action)s by this user; none of the %(peers)d users with the same role used it in the last "
        "%(days)d days."
    )
    return text % values
