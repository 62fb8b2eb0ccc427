import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from permissions.views import login_only, public
from portal.home import home_panels


@login_only
def home(request):
    """The day's work of the signed-in user (portal.home): what waits for an administrator, a reviewer's open
    items, a customer's access, requests and expiries. Platform operators go to their admin."""
    if request.tenant is None:
        return redirect("admin:index")
    return render(request, "portal/home.html", {"user": request.user, **home_panels(request)})


@public
@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the static icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@public
@never_cache
@require_GET
def healthz(request):
    """Readiness for load balancers, as JSON.

    Checks the database always, Redis when REDIS_URL is set, the Celery heartbeat when CELERY_ENABLED.
    Only the database is essential: without it, 503 and "error". Redis and Celery only accelerate or
    defer work (the portal answers from the database without them, FC-1), so when one of them fails
    the answer is 200, "degraded", and ``degraded`` names them. Only "ok"/"error"/"stale" are shown:
    no versions, hosts or messages for an anonymous caller.
    """
    checks = {"database": _check_database()}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis()
    if settings.CELERY_ENABLED:
        checks["celery"] = _check_celery()
    if checks["database"] != "ok":
        return JsonResponse({"status": "error", "checks": checks}, status=503)
    degraded = sorted(name for name, value in checks.items() if value != "ok")
    if degraded:
        return JsonResponse({"status": "degraded", "degraded": degraded, "checks": checks}, status=200)
    return JsonResponse({"status": "ok", "checks": checks}, status=200)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "error"
    return "ok"


def _check_redis() -> str:
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return "error"
    return "ok"


def _check_celery() -> str:
    """The worker leaves a heartbeat every minute (portal.tasks); older than three minutes is stale."""
    from portal.tasks import HEARTBEAT_KEY

    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception:  # the cache backend is down: reported by the redis check too
        return "error"
    if not beat:
        return "stale"
    age = timezone.now() - datetime.datetime.fromisoformat(beat)
    return "ok" if age <= datetime.timedelta(minutes=3) else "stale"
