from django.conf import settings

from portal import navigation


def layout(request):
    """What the base layout needs: the tenant, the menu (grouped) and the languages."""
    return {
        "tenant": getattr(request, "tenant", None),
        "nav_groups": navigation.groups_for(request),
        "languages": settings.LANGUAGES,
    }
