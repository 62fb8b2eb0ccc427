from django.conf import settings

from portal import navigation


def layout(request):
    """What the base layout needs: the tenant, the menu and the languages."""
    return {
        "tenant": getattr(request, "tenant", None),
        "nav_items": navigation.items_for(request),
        "languages": settings.LANGUAGES,
    }
