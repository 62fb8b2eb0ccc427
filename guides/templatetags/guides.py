"""``{% help_link %}`` (the header's help for the page at hand) and ``{% console_tour %}`` (the first-visit tour of
the menu's areas, on the home page), both rendered by templates/base.html."""

from django import template

from guides.links import help_link as link_for

register = template.Library()


@register.inclusion_tag("guides/_help_link.html", takes_context=True)
def help_link(context):
    request = context.get("request")
    return {"help": link_for(request) if request is not None else None}


@register.inclusion_tag("guides/_tour.html", takes_context=True)
def console_tour(context):
    """The tour's steps (one per area of the menu the user has), on the home page only; the script shows it on
    the first visit and remembers its dismissal per user in the browser (static/guides/tour.js)."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    groups = context.get("nav_groups") or []
    user = getattr(request, "user", None)
    if not groups or match is None or match.view_name != "home" or user is None or not user.is_authenticated:
        return {"tour": None}
    return {"tour": {"groups": groups, "key": f"portcullis.tour.{user.tenant_id}.{user.pk}"}}
